"""Dev templates with new values: every gold span of the dev set is replaced by a fresh value of its type (names
outside the census lists, other numbers, streets, cities, drugs, codes), so the phrasing is dev's but the people,
numbers and places are not. A regression guard for generalisation: leak <= 3 %, over-redaction <= 5 %."""
import json
import os
import random
from pathlib import Path

import pytest

from hushmic.redact import redact_text
from hushmic.redact.names import first_names, last_names

HERE = Path(__file__).resolve().parent
DEV = Path(os.environ.get("HUSHMIC_PII_DEV", HERE.parent.parent / "shared" / "eval" / "pii" / "pii_dev.jsonl"))
rng = random.Random(1)

D = "zero one two three four five six seven eight nine".split()
ONES=D[1:]; TEENS="ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(); TENS="twenty thirty forty fifty sixty seventy eighty ninety".split()
def card(n):
    if n<10: return ONES[n-1] if n else "zero"
    if n<20: return TEENS[n-10]
    if n<100: return TENS[n//10-2]+("" if n%10==0 else " "+ONES[n%10-1])
    return ONES[n//100-1]+" hundred"+("" if n%100==0 else " "+card(n%100))
def digs(n): return " ".join(("oh" if c=="0" and rng.random()<.3 else D[int(c)]) for c in "".join(rng.choice("0123456789") for _ in range(n)))
INTL = "aaliyah xiomara oluwaseun siddharth thiago keanu zainab yusuf mateo aditi priyanka kwame svetlana dmitri leilani anouk bartholomew esperanza ezekiel giovanni hamza imani jaylen marisol megumi nadia olamide rajesh ruairi tariq tobias wei yuki zofia declan anneliese hiroshi ingrid kenji lorenzo beatriz".split()
INTL_L = "okonkwo raghunathan adeyemi nakamura kowalczyk petrov zhang qureshi visser demir okafor nwosu abernathy haddad villanueva adebayo kowalska tanaka mehta".split()
fn=[n for n,r in first_names().items() if r<=1200]; ln=[n for n,r in last_names().items() if r<=8000]
def first(): return rng.choice(INTL) if rng.random()<.4 else rng.choice(fn)
def last(): return rng.choice(INTL_L) if rng.random()<.4 else rng.choice(ln)
MONTHS="january february march april may june july august september october november december".split()
ORD="first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
def date(old):
    y = "nineteen "+card(rng.randint(20,99))
    if old.startswith("the "): return f"the {rng.choice(ORD)} of {rng.choice(MONTHS)} {y}"
    return f"{rng.choice(MONTHS)} {rng.choice(ORD)}" + (f" {y}" if len(old.split())>3 else "")
STREETS="maple oak cedar birch juniper linden sycamore magnolia hawthorne station market mill river lake park spring hill meadow harbor willow".split()
TYPES="street road avenue lane drive boulevard place court way terrace crescent".split()
CITIES="dayton boise savannah tucson norwich york plymouth fresno akron duluth".split()
def address(old):
    h=rng.choice([digs(rng.randint(2,4)).replace("zero","one").replace("oh","two"), card(rng.randint(2,99))])
    a=f"{h} {rng.choice(STREETS)} {rng.choice(TYPES)}"
    if rng.random()<.3: a+=f" {rng.choice(['apartment','suite','unit'])} {card(rng.randint(1,30))}"
    if len(old.split())>5 and rng.random()<.6: a+=f" {rng.choice(CITIES)}"
    return a
def email(old):
    f=first(); l=last()
    loc=rng.choice([f"{f} dot {l}", f"{f[0]} {l}", f"{f} {card(rng.randint(10,99))}", f"{f}{l}"])
    return f"{loc} at {rng.choice(['gmail','yahoo','outlook','icloud','hotmail'])} dot {rng.choice(['com','net','org'])}"
def code(n):
    return " ".join(rng.choice("abcdefghjklmnpqrstuvwxyz") if rng.random()<.4 else D[rng.randint(0,9)] for _ in range(n))
MED = ("asthma diabetes migraines epilepsy lupus gout eczema psoriasis arthritis insomnia anxiety depression adhd "
       "autism glaucoma tonsillitis bronchitis shingles sciatica endometriosis fibromyalgia").split()
MEDS = "metformin lisinopril sertraline gabapentin atorvastatin levothyroxine omeprazole amlodipine montelukast escitalopram prednisone warfarin".split()
ALLERG = "peanut shellfish latex penicillin gluten dairy egg".split()
def medical(old, text):
    if old.endswith("allergy"): return rng.choice(ALLERG)+" allergy"
    if old in MEDS or old in ("metformin",): return rng.choice(MEDS)
    return rng.choice(MED)
PW_W="sunshine dragon football monkey purple tiger summer shadow hunter ranger cookie pepper".split()
LOC_CITY="chattanooga albuquerque milwaukee aberdeen swindon norwich dayton tucson cleveland".split()
def location(old):
    if len(old.split())==1: return rng.choice(LOC_CITY)
    return "the "+rng.choice(["westfield","oakridge","riverside","maplewood","sunnyside"])+" "+rng.choice(["community center","public library","medical clinic","shopping centre","high school","elementary school"])
def gen(t, old, text):  # noqa: C901
    if t=="PERSON":
        s = first() + ((" "+last()) if len(old.replace("'s","").split())>1 else "")
        return s + ("'s" if old.endswith("'s") else "")
    if t=="PHONE": return digs(10)
    if t=="EMAIL": return email(old)
    if t=="ADDRESS": return address(old)
    if t=="POSTCODE": return digs(5) if all(w in D+["oh"] for w in old.split()) else rng.choice(["s w one a one a a","m one one a e","e c two a four n e","b s eight one t h"])
    if t=="CREDIT_CARD": return digs(16) if len(old.split())>8 else digs(4)
    if t=="BANK_ACCOUNT": return digs(len(old.split()))
    if t=="SSN": return digs(9)
    if t=="ID_NUMBER": return code(len(old.split()))
    if t=="DATE_OF_BIRTH": return date(old)
    if t=="AGE": return card(rng.randint(2,95)) if len(old.split())<3 else card(rng.randint(21,95))
    if t=="DEVICE_ID": return digs(15) if len(old.split())>12 else code(len(old.split()))
    if t=="MEDICAL": return medical(old, text)
    if t=="PASSWORD": return digs(len(old.split())) if all(w in D for w in old.split()) else rng.choice(PW_W)+" "+digs(rng.randint(2,3))
    if t=="LOCATION": return location(old)
    return old


@pytest.mark.skipif(not DEV.exists(), reason="shared/eval/pii/pii_dev.jsonl not present")
def test_dev_templates_with_new_values():
    items = [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]
    leak = npii = over = nneg = 0
    leaked = []
    for _ in range(3):
        for it in items:
            t = it["text"]
            out, pos, gold = "", 0, []
            for s in sorted(it["spans"], key=lambda s: s["start"]):
                out += t[pos:s["start"]]
                v = gen(s["type"], t[s["start"]:s["end"]], t)
                gold.append((len(out), len(out) + len(v)))
                out += v
                pos = s["end"]
            out += t[pos:]
            cov = set()
            for x in redact_text(out):
                cov.update(range(x.start, x.end))
            if gold:
                npii += 1
                if any(out[c] != " " and c not in cov for a, b in gold for c in range(a, b)):
                    leak += 1
                    leaked.append(out)
            else:
                nneg += 1
                over += bool(cov)
    assert leak / npii <= 0.03, leaked[:10]
    assert over / nneg <= 0.05
