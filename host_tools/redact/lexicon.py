"""Word sets for spoken-form redaction: number words, letters, cue vocabulary, stop words, health terms.

Everything here describes how people *speak* (number words, spelling alphabets, the ways one says "my number is"),
not any particular sentence. All lists are written for this project (no third-party data) except the name and
dictionary lists in `data/` (see docs/threat-model.md, "Licences").
"""

def _s(text):
    return frozenset(text.split())


# ---------------------------------------------------------------- numbers
DIGIT_WORDS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "naught": 0, "nil": 0,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}
# homophones an ASR emits for digits; accepted only inside a number run that a PII cue introduced
DIGIT_HOMOPHONES = {"for": 4, "fore": 4, "to": 2, "too": 2, "won": 1, "ate": 8, "tree": 3, "free": 3, "sex": 6, "nein": 9}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
         "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
        "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1000000}
REPEATERS = {"double": 2, "triple": 3, "treble": 3}
FILLERS = _s("uh um er erm ah eh hmm hm mm uhm umm uhh")
# words that start a self-correction inside a number ("five five six, no, sorry, five five seven")
CORRECTIONS = _s("no sorry actually wait oops mean")
NUMBER_JOINERS = _s("dash hyphen slash colon")
# what people say between the groups of a number they read out ("nine oh four, hold on, six six two, let me check,
# ..."; "four five three two, right, six six one eight, okay, ..."): part of the number when more of it follows
HESITATIONS = [tuple(p.split()) for p in """hold on|hang on|hold on a second|hang on a sec|wait|wait a second|
wait a sec|wait a minute|wait a moment|just a second|just a sec|just a moment|just a minute|give me a second|
give me a sec|bear with me|let me check|let me see|let me think|let me look|let me just check|let me find it|
let me get it|let me double check|let me read it|i'll read it|i think|i believe|got that|got it|you got that|
did you get that|have you got that|are you getting this|yeah|yes|yep|right|okay|ok|alright|all right|so|and|then|
and then|next|after that|sorry|where was i|is that right|ready|you ready|good|still there|are you still there|
the next part is|the next bit is|the rest is|and the rest is|next part|then it's|and it's|it's|that's|like|um|uh|
ah|er|erm|hmm|mhm|uh huh|oh boy|one sec|one second|one moment|again|let me read it again|let me say that again|
let me say it again|i'll say it again|i'll read it again|read it again|say it again|one more time|from the top|
once more|let me start over|start over|to repeat|i repeat|that's|let me look it up|look it up|let me pull it up|
pull it up|let me grab it|let me grab my card|let me get my card|let me find my card|where is it|here it is|here we go|
bear with me a second|hang on a second|hold on a second|hold on a sec|hang on a sec|one sec""".replace("\n", " ").split("|")]  # "five five five dash one two one two"

ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
MONTHS = _s("january february march april may june july august september october november december "
            "jan feb mar apr jun jul aug sep sept oct nov dec")

# ---------------------------------------------------------------- letters
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# spelled letters as a recogniser may write them ("double u", "zed", "bee")
LETTER_NAMES = {"zed": "z", "zee": "z", "bee": "b", "cee": "c", "dee": "d", "gee": "g", "jay": "j", "kay": "k",
                "pee": "p", "queue": "q", "cue": "q", "are": "r", "ess": "s", "tee": "t", "vee": "v", "ex": "x",
                "why": "y", "ay": "a", "el": "l", "em": "m", "en": "n"}
NATO = {"alpha": "a", "alfa": "a", "bravo": "b", "charlie": "c", "delta": "d", "echo": "e", "foxtrot": "f",
        "golf": "g", "hotel": "h", "india": "i", "juliet": "j", "juliett": "j", "kilo": "k", "lima": "l", "mike": "m",
        "november": "n", "oscar": "o", "papa": "p", "quebec": "q", "romeo": "r", "sierra": "s", "tango": "t",
        "uniform": "u", "victor": "v", "whiskey": "w", "whisky": "w", "xray": "x", "x-ray": "x", "yankee": "y",
        "zulu": "z"}

# ---------------------------------------------------------------- general vocabulary
FUNCTION_WORDS = _s("""
a an the and or but so if then than that this these those there here is are was were be been being am do does did
done doing have has had having will would shall should can could may might must not no nor to of in on at by for
with from into onto about over under up down out off as it its it's i i'm i've i'd i'll me my mine myself you your
you're yours he him his he's she her hers she's we us our ours we're they them their theirs they're what what's
which who who's whom whose where where's when when's why how how's all any some each every both either neither one's
very just also too again only even still yet already ever never now today tonight tomorrow yesterday later soon
please thanks thank okay ok yes yeah hey hi hello oh well like
""")
# words that end a free-text value (a password, a place, a name) in running speech
VALUE_STOP = _s("""
and but so because then please thanks thank okay ok also plus or when while until before after if since
today tonight tomorrow yesterday now later right soon asap this next last for with to from by about
come pick call text tell send let can could would will should is are was were i i'm my me you your
gonna wanna gotta lemme kinda sorta yeah yep nope nah alright cuz
he she we they he's she's we're they're hes shes
""")
# relationship and role words: never a private person's name ("call mom", "text my wife")
RELATIONS = _s("""
mom mum mommy mummy mother mama ma dad daddy father papa pa parents parent wife husband spouse partner boyfriend
girlfriend fiance fiancee son daughter kid kids child children baby brother sister bro sis sibling siblings grandma
granny nana grandpa granddad grandfather grandmother grandson granddaughter grandchildren grandkids grandparents
aunt auntie uncle cousin niece nephew friend friends buddy pal boss manager colleague coworker neighbor neighbour
roommate flatmate teacher doctor dentist nurse therapist lawyer landlord landlady babysitter nanny plumber
family everyone everybody someone somebody anyone anybody nobody office home work school team support
reception receptionist assistant vet pharmacy pharmacist mechanic electrician
stepmom stepdad stepson stepdaughter inlaws in-laws twins twin sons daughters boys girls grandsons granddaughters
brothers sisters cousins toddler teenager teen infant newborn
""")
TITLES = _s("mister mr mrs ms miss missus dr doctor professor prof sir madam dame lord lady nurse officer "
            "reverend rev father sister coach judge captain")
EMERGENCY_NUMBERS = frozenset({"911", "999", "112", "111", "000", "988", "101", "311", "411", "211", "811"})

# quantity / time words after a number: the number is a quantity, a time or a duration, not an identifier
UNITS = _s("""
percent per cent degrees degree dollars dollar bucks cents cent pounds pound quid pence euros euro yen rupees
miles mile kilometers kilometres km meters metres meter metre feet foot inches inch yards yard centimeters
grams gram kilos kilo kilograms kg ounces ounce oz lbs liters litres liter litre gallons gallon cups cup
tablespoons teaspoons pints pint quarts calories calorie steps reps sets laps
seconds second minutes minute mins min hours hour hrs days day weeks week months month years year decades
o'clock oclock am pm a.m. p.m. pm. am. times fold
people persons guests eggs items pieces bottles cans slices dozen
volts watts amps mph kph bpm
""")
MATH_WORDS = _s("plus minus times divided multiplied over squared cubed root percent equals add subtract "
                "multiply divide sum product")
TIME_PREPS = _s("at for by until till from around before after in about within every")

# owners of a "number" that is not personal
NONPERSONAL_NUMBER_OWNERS = _s("""
flight room table page channel track gate seat bus train platform model version episode chapter season lottery
lucky order tracking confirmation reference ticket invoice item product part catalog catalogue station exit
highway route interstate lane level floor step question problem puzzle jersey
""")

# media and knowledge requests: names in them are public figures, not private people
MEDIA_CUES = _s("""
play playing song songs music album albums artist band singer listen podcast podcasts episode movie movies film
films watch show shows series book novel novels author wrote written directed starring actor actress director
radio station playlist track tracks lyrics concert tour
""")
KNOWLEDGE_CUES = _s("""
who who's whos whose famous president prime minister king queen prince princess pope senator governor mayor
celebrity biography wikipedia born died history historical invented discovered founded ceo
""")

STREET_TYPES = _s("""
street st road rd avenue ave lane ln drive dr boulevard blvd place pl court ct way terrace circle cir parkway pkwy
highway hwy crescent close row square trail path alley grove gardens mews walk parade plaza pike loop
""")
UNIT_WORDS = _s("apartment apt unit suite flat floor number building bldg ste room")
US_STATES = _s("""
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho illinois
indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri
montana nebraska nevada hampshire jersey mexico york carolina dakota ohio oklahoma oregon pennsylvania rhode
island tennessee texas utah vermont virginia washington wisconsin wyoming
""")

EMAIL_TLDS = _s("""com org net edu gov mil int io co uk us ca de fr au info biz me ai app dev ie nz in es it nl mx br ar
cl pe jp cn kr sg hk tw ph th vn za ng ke eg ru pl cz se dk fi ch pt gr tr il ae sa pk lk tv xyz online
site tech store shop cloud live email name pro mobi ly gg fm tk""")
EMAIL_PROVIDERS = _s("gmail googlemail yahoo hotmail outlook live icloud me aol proton protonmail gmx mail "
                     "yandex zoho fastmail hey msn comcast verizon")
EMAIL_JOINERS = _s("dot underscore dash hyphen period point")

# ---------------------------------------------------------------- health
# conditions, medications and treatments; redacted only when attributed to a person (see recognizers.Medical)
MEDICAL_TERMS = _s("""
asthma diabetes diabetic cancer tumor tumour leukemia lymphoma melanoma epilepsy seizures seizure migraine migraines
depression depressed anxiety adhd autism autistic dyslexia schizophrenia bipolar ptsd ocd insomnia apnea
arthritis osteoporosis alzheimer's alzheimers dementia parkinson's parkinsons hiv aids hepatitis herpes chlamydia
gonorrhea syphilis std stds sti tuberculosis tb covid coronavirus flu influenza pneumonia bronchitis copd emphysema
hypertension hypotension cholesterol angina arrhythmia stroke strokes eczema psoriasis acne rosacea lupus
fibromyalgia endometriosis pcos infertility infertile pregnant pregnancy miscarriage abortion menopause
celiac crohn's crohns colitis ibs gerd reflux ulcer ulcers gout anemia anaemia hemophilia sickle glaucoma
cataracts cataract tinnitus vertigo concussion scoliosis sciatica hernia shingles measles mumps chickenpox
allergy allergies allergic addiction alcoholism alcoholic anorexia bulimia obesity obese overweight
chemo chemotherapy radiotherapy radiation dialysis insulin metformin lisinopril atorvastatin lipitor simvastatin
amlodipine levothyroxine synthroid omeprazole prilosec losartan albuterol ventolin inhaler gabapentin
hydrocodone oxycodone codeine morphine tramadol fentanyl methadone suboxone xanax alprazolam valium diazepam
ativan lorazepam klonopin clonazepam ambien zolpidem prozac fluoxetine zoloft sertraline lexapro escitalopram
paxil wellbutrin bupropion effexor cymbalta lithium seroquel abilify risperdal adderall ritalin vyvanse
concerta warfarin coumadin eliquis xarelto plavix prednisone steroids antibiotics amoxicillin penicillin
azithromycin doxycycline cipro viagra cialis epipen ozempic wegovy mounjaro truvada prep antidepressants
antidepressant antipsychotics chemotherapy biopsy mastectomy transplant pacemaker vasectomy hysterectomy
thyroid hypothyroidism hyperthyroidism kidney dyspraxia tourette's tourettes cystic fibrosis sclerosis
hemorrhoids psoriatic lactose gluten afib a-fib
asthmatic epileptic anemic anaemic arthritic schizophrenic anorexic bulimic dyslexic hypertensive psychotic suicidal
paraplegic quadriplegic immunocompromised sober diabetics migrainous insulin-dependent
atenolol metoprolol propranolol carvedilol hydrochlorothiazide furosemide lasix spironolactone montelukast singulair
cetirizine zyrtec loratadine claritin fexofenadine allegra ibuprofen tylenol acetaminophen paracetamol advil
naproxen aleve pantoprazole nexium esomeprazole ranitidine famotidine pepcid rosuvastatin crestor pravastatin
ezetimibe glipizide glimepiride januvia sitagliptin jardiance farxiga trulicity victoza lantus humalog novolog
tamoxifen letrozole methotrexate humira enbrel hydroxychloroquine plaquenil allopurinol colchicine tamsulosin flomax
finasteride sumatriptan imitrex topiramate topamax lamotrigine lamictal levetiracetam keppra depakote valproate
carbamazepine quetiapine olanzapine aripiprazole trazodone mirtazapine buspirone duloxetine venlafaxine citalopram
paroxetine amitriptyline nortriptyline clonidine guanfacine methylphenidate atomoxetine strattera naltrexone
buprenorphine narcan naloxone estradiol progesterone testosterone levonorgestrel nitroglycerin digoxin amiodarone
diltiazem verapamil hydralazine benazepril enalapril ramipril valsartan olmesartan irbesartan clopidogrel apixaban
rivaroxaban dabigatran heparin enoxaparin prednisolone dexamethasone budesonide fluticasone flonase symbicort advair
spiriva tiotropium cephalexin keflex clindamycin metronidazole flagyl nitrofurantoin bactrim valacyclovir valtrex
acyclovir oseltamivir tamiflu paxlovid semaglutide tirzepatide liraglutide dulaglutide liothyronine methimazole
alendronate fosamax donepezil aricept memantine namenda ropinirole pramipexole carbidopa levodopa sinemet baclofen
cyclobenzaprine flexeril tizanidine meloxicam celecoxib celebrex diclofenac oxybutynin sildenafil tadalafil
isotretinoin accutane doxepin hydroxyzine promethazine ondansetron zofran meclizine
hashimoto's hashimotos graves strep mononucleosis uti cirrhosis pancreatitis diverticulitis gallstones appendicitis
asperger's aspergers tourette narcolepsy neuropathy tendonitis tendinitis fasciitis osteoarthritis rheumatoid
sjogren's raynaud's vitiligo alopecia dermatitis hives bpd schizoaffective postpartum dysthymia agoraphobia
hpv impotence incontinence leukaemia sarcoma glioblastoma ivf stillbirth colonoscopy mammogram fever migraines
concussions dementia palsy dystrophy bifida huntington's als
oncologist oncology psychiatrist cardiologist neurologist urologist gynecologist obgyn endocrinologist
rheumatologist hematologist nephrologist pulmonologist gastroenterologist rehab detox methadone sobriety relapse
""")
MEDICAL_PHRASES = [
    "high blood pressure", "low blood pressure", "high cholesterol", "type one diabetes", "type two diabetes",
    "type 1 diabetes", "type 2 diabetes", "heart disease", "heart failure", "heart attack", "heart condition",
    "sleep apnea", "bipolar disorder", "multiple sclerosis", "panic attacks", "panic attack", "panic disorder",
    "eating disorder", "chronic pain", "back pain", "kidney disease", "kidney stones", "liver disease",
    "cystic fibrosis", "sickle cell", "blood clots", "blood clot", "atrial fibrillation", "post traumatic stress",
    "birth control", "the pill", "physical therapy", "mental illness", "learning disability", "celiac disease",
    "crohn's disease", "lyme disease", "irritable bowel syndrome", "restless leg syndrome", "down syndrome",
    "hearing loss", "sleep disorder", "weight loss surgery", "blood thinners", "blood pressure medication",
    "iron deficiency", "vitamin d deficiency", "long covid", "std test", "hiv positive", "hay fever",
    "chronic fatigue", "carpal tunnel", "restless legs", "cerebral palsy", "spina bifida", "muscular dystrophy",
    "broken arm", "broken leg", "broken wrist", "broken ankle", "broken hip", "broken rib", "torn acl",
    "strep throat", "pink eye", "sore throat", "ear infection", "stomach flu", "sexually transmitted", "a fib", "atrial fib", "lactose intolerant", "gluten intolerant", "lactose intolerance",
    "gluten intolerance", "mental health", "substance abuse", "drinking problem", "blood pressure", "blood sugar",
]
# conditions people spell out by their letters ("she has m s", "he was diagnosed with a d h d")
MEDICAL_ABBREVIATIONS = _s("ms adhd add ptsd ocd copd ibs hiv aids gerd uti pcos als std sti ckd chf cf mnd cfs me "
                           "tbi gad mdd bpd dvt ra sle")
MEDICAL_HEADS = _s("cancer disease disorder syndrome infection deficiency allergy allergies intolerance failure "
                   "attack attacks condition fever pain injury surgery fracture problems palsy degeneration "
                   "dysfunction replacement transplant")
MEDICAL_GENERAL_CUES = _s("symptoms symptom signs causes cause cure contagious define definition treat treatment "
                          "prevent prevention risk risks facts spread common")
PERSONAL_MARKERS = _s("i i'm i've i'd im ive my me mine he she his her he's she's hes shes him they their "
                      "has have had diagnosed")

# services, brands and devices people name to an assistant: never a person, a drug or a condition
BRANDS = _s("""
netflix hulu spotify pandora youtube amazon alexa siri google cortana bixby apple iphone ipad ipod airpods macbook
imac android samsung galaxy pixel kindle roku firestick chromecast sonos nest ecobee ring arlo fitbit garmin peloton
xbox playstation ps5 nintendo switch steam twitch disney hbo max paramount peacock audible uber lyft doordash
grubhub instacart ubereats postmates fedex ups usps dhl walmart target costco kroger safeway walgreens cvs ikea
starbucks mcdonald's mcdonalds chipotle dominos domino's subway wendy's kfc tesla toyota honda ford chevy bmw audi
mercedes lexus porsche nissan hyundai kia mazda subaru volvo jeep buick cadillac
paypal venmo zelle cashapp chase citi amex facebook instagram tiktok snapchat whatsapp messenger telegram signal
zoom skype teams slack gmail outlook yahoo hotmail icloud dropbox wikipedia reddit twitter linkedin pinterest
tinder bumble duolingo waze yelp airbnb expedia tripadvisor philips hue wemo tado dyson roomba vizio lg sony bose
""")

# places that are also first names ("austin", "charlotte", "paris"): a bare mention is a place, not a person
# (a contact cue still wins: "call paris" is a person)
PLACE_NAMES = _s("""
austin dallas houston charlotte madison jackson phoenix aurora florence paris sydney victoria lincoln denver orlando
chester savannah raleigh tyler columbus augusta camden cleveland eugene helena beverly jordan israel india georgia
virginia carolina chelsea york kent clifton troy marion salem mobile montgomery nashville memphis logan dayton
boston seattle portland chicago atlanta miami tampa albany buffalo richmond arlington lafayette quincy vernon
warren hamilton clinton franklin springfield burlington dover bristol leeds london oxford cambridge bath wells
durham lancaster preston derby stafford hereford brighton kingston regina adelaide perth darwin brisbane hobart
geneva vienna berlin dublin milan siena valencia alexandria cairo lima santiago houston sacramento fresno reno
tucson mesa tulsa wichita omaha boise laramie casper cheyenne billings missoula fargo sioux topeka provo ogden
kenya chad niger jamaica albania bolivia argentina china america africa asia europe
""")

# ---------------------------------------------------------------- what a recogniser mishears in a cue
# A cue word heard as a near word ("my SUN is five", "i WORKED at ...", "my BIRTHDAYS march ninth", "i LEAVE in
# ..."). Doc puts the cue word back where the words around it show which was meant (see doc._hear_cues); the other
# words of the text are never changed.
AFTER_POSSESSIVE = {"sun": "son", "suns": "sons", "sun's": "son's", "sonny": "son", "dotter": "daughter",
                    "doter": "daughter", "daughtor": "daughter", "dotter's": "daughter's", "doughter": "daughter",
                    "wive": "wife", "wifes": "wife's", "sons": "son's", "husbands": "husband's", "adress": "address", "addres": "address", "e-mail": "email",
                    "numbers": "number's", "names": "name's", "birthdays": "birthday's", "emails": "email's", "passwords": "password's"}
POSSESSIVES = _s("my our his her your their")
