"""Person names: chains of capitalised words read with their titles (M., Mme: a patient;
Dr, Pr: a colleague, not a finding), the first-name and surname gazetteers, and the words
that make a capitalised run an eponym, a place or a drug."""

from __future__ import annotations

import re
from functools import lru_cache

from plugins.secrecy._gazetteer import FIRST_NAMES, SURNAMES
from plugins.secrecy.detector.common import P_NAME, UP, Cand, first_letters, norm


def _words(text: str) -> frozenset[str]:
    """A word list written as one string (normalised, one set)."""
    return frozenset(norm(w) for w in text.split())


_TOKEN_TAIL = r"[^\W\d_]*(?:[.'’\-]+[^\W\d_]+)*\.?"
_TOKEN = rf"[{UP}]{_TOKEN_TAIL}"
_PARTICLES = r"de|du|des|d['’]|van|von|der|da|di|del|della|dos|das|ben|el|al|bin|ibn"
_CHAIN = re.compile(
    rf"[{UP}](?<![\w/\-.'’][{UP}]){_TOKEN_TAIL}"
    # after the blanks, a capital or a particle's first letter: most words fail there at once
    rf"(?:(?:[ \t]{{1,2}}(?=[{UP}{first_letters(_PARTICLES)}])(?:(?:{_PARTICLES})[ \t]+)?"
    rf"|(?<=\.)){_TOKEN})*"
)
_TOKEN_RE = re.compile(_TOKEN)

_CIVIL = _words(
    """
m m. mr mr. mme mme. mmes mlle mlle. mlles monsieur madame mademoiselle messieurs mesdames mrs
mrs. ms ms.
"""
)
_DOCTOR = _words(
    """
dr dr. drs pr pr. docteur docteurs professeur professeurs doctoresse prof prof.
"""
)
_PATIENT = frozenset({"patient", "patiente"})
_KNOWN_NAMES = FIRST_NAMES | SURNAMES
TITLES = _CIVIL | _DOCTOR
_TITLES_OR_PATIENT = TITLES | _PATIENT
# Capitalised words that start sentences or headings and are never a person here.
COMMON = _words(
    """
le la les l un une des du de d il elle ils elles on je j nous vous tu ce cet cette ces c son sa
ses mon ma mes ton ta leur leurs pas pour par avec sans sous sur dans en et ou mais donc car ni
or au aux apres avant depuis lors chez vers selon entre contre puis alors ensuite enfin aussi
bonjour bonsoir salut merci cordialement bien coucou hello hi svp qui que quoi quel quelle quels
comment pourquoi quand combien est sont a ont fait faut peut avez avons suis etes oui non ok
homme femme enfant bebe nourrisson fille fils mere pere epoux epouse conjoint mari sœur soeur
frere famille maman papa grand mamie papi bilan examen antecedents atcd traitement traitements
conclusion diagnostic hypothese hypotheses avis question questions suite hier aujourd demain
matin soir nuit semaine mois jour jours annee lundi mardi mercredi jeudi vendredi samedi
dimanche janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
service hopital clinique urgences urgence consultation ordonnance scanner echo echographie radio
biologie cabinet centre maison ehpad laboratoire labo pharmacie pharmacien cas dossier motif
histoire contexte mode vie allergie allergies poids taille tabac alcool clinique paraclinique
evolution plan objectif objectifs note notes rappel resume synthese compte rendu cr interne
internes externe ide infirmier infirmiere kine aide sage secretariat secretaire medecin medecins
chirurgien chirurgie cardiologue pneumologue neurologue dermato dermatologue psychiatre
gynecologue pediatre rhumato rhumatologue endocrino ophtalmo orl gastro urologue nephrologue
angiologue geriatre oncologue hematologue radiologue anesthesiste confrere consoeur collegue
correspondant specialiste generaliste remplacant remplacante tel telephone portable mobile fax
mail email adresse nom prenom ne nee sexe age date lieu ville commune code departement region
pays france mr mme mlle monsieur madame dr pr attention important urgent rdv rendez cr info
infos nb ps rq pb positif negatif normal normale normaux anormal stable bon bonne mauvais traite
traitee vu vue revu revue adresse adressee hospitalise hospitalisee sorti sortie fievre toux
douleur douleurs dyspnee asthenie nausees vomissements diarrhee constipation cephalees vertiges
malaise chute chutes plaie brulure eruption prurit oedeme oedemes neurologie cardiologie
pneumologie dermatologie rhumatologie gastro-enterologie gastroenterologie nephrologie urologie
geriatrie pediatrie psychiatrie oncologie hematologie radiologie medecine gynecologie
obstetrique endocrinologie ophtalmologie reanimation infectiologie addictologie universite
faculte departement pole unite secteur
"""
)
# Medical eponyms: capitalised surnames that name diseases, signs and scores.
_EPONYMS = _words(
    """
parkinson alzheimer crohn hodgkin basedow horton raynaud addison cushing wilson gilbert charcot
guillain barre babinski lasegue murphy kaposi paget lyme barrett tinel phalen hashimoto
dupuytren osgood schlatter scheuermann meniere marfan down turner kawasaki still behcet wegener
sjogren gougerot willebrand glasgow apgar wells genève geneve child pugh meld nyha killip
framingham epworth folstein katz barthel norton braden fagerstrom mallampati cormack lachman
mcmurray trendelenburg romberg kernig brudzinski rovsing blumberg mcburney kehr bouveret
forestier bechterew bouchard heberden tietze zollinger ellison fallot eisenmenger wolff white
brugada lown ganong levine holter doppler seldinger foley kocher pfannenstiel whipple hartmann
nissen dukes gleason breslow clark ann arbor binet rai ziehl neelsen gram papanicolaou ziehl
mantoux quick tanner bishop silverman bristol hamilton beck mini moca zarit
"""
)
# All-caps tokens that are acronyms, not surnames.
ACRONYMS = _words(
    """
HTA BPCO AVC IRM ECG TDM SAMU CHU CHR CH EHPAD DT DT1 DT2 DNID DID AINS IEC ARA AOMI IDM SCA FA
ACFA TVP EP IC ICC IR IRC IRA DFG CRP PCT NFS VS TSH ASAT ALAT GGT PAL LDH CPK BNP INR TP TCA
ECBU BU PSA AFP ACE CA PNN HB VGM IMC TA PA FC FR SAT EVA ATCD TTT RAS RDV CR CRH SAU SMUR UHCD
USIC REA HDJ MPR SSR HAD IDE AS MT MG PH CCA DES DU DIU COVID SARS VIH VHB VHC HPV IST MST TB BK
SEP SLA MICI RCH SPA LED PPR DMLA HBP RGO SII UGD OMI OAP SDRA PNP PNA TC PCI HSA HSD AIT TCE
LCR EEG EMG ETT ETO EFR VEMS CVF DEP TEP RX ASP FOGD IPP AVK AOD HBPM NACO ISRS IRSNA BZD ATB
AMM HAS ANSM CNOM ARS CPAM MSA ALD CMU AME PMI ASE MDPH APA AAH CAF SOS SMS VSL ALR AG ORL NYHA
ASA GCS MMS MMSE MOCA TSA TDAH TOC TAG EDM IVG FCS GEU DDR AMP FIV PMA HPP MAP RPM RCIU HGPO
SOPK OK NB PS RQ CAT NA SDF AEG BAV BBD BBG ESV TSV FEVG HVG SAOS PPC VNI OGD MCV HTAP EI SCORE
URGENT URGENCE IMPORTANT BILAN EXAMEN SYNTHESE CONCLUSION TRAITEMENT ANTECEDENTS MOTIF HISTOIRE
CLINIQUE PARACLINIQUE EVOLUTION DIAGNOSTIC AVIS QUESTION RESUME COMPTE RENDU HOPITAL SERVICE
CENTRE MEDECIN MEDECINE DOCTEUR PATIENT PATIENTE DATE NOM PRENOM ADRESSE TEL FAX MAIL IPP NDA
OMS ONU UE USA UK CEDEX FINESS RPPS ADELI INS NIR NSS SECU APHP AP HP CHI CHG GH HIA CLCC PDF
JPG PNG URL WEB APP BOT
"""
)
# Words after which the next capitalised run is an eponym, a place or a law, not a person:
# "maladie de Horton", "hôpital Necker", "rue Victor Hugo", "loi Kouchner".
_SKIP_NEXT = _words(
    """
maladie syndrome signe test manoeuvre score classification critere echelle reflexe loi triade
fracture ulcere hernie tumeur lymphome sarcome kyste cellule methode technique procedure operation
intervention protocole abord incision point canal ligament diverticule thyroidite encephalopathie
purpura angor paralysie contracture choree dystrophie sclerose fievre myopathie anevrisme anemie
osteochondrite dysplasie polype nevralgie tendinite bursite sonde catheter classe stade grade type
hopital hop hop. chu chr ch chi clinique centre institut fondation gh lycee college ecole
universite faculte rue avenue av av. boulevard bd place allee quai impasse chemin square cours
pont gare station metro pavillon batiment residence ehpad maison cabinet pole unite service salle
hotel stade parc bibliotheque prix decret arrete circulaire article laboratoire labo pharmacie
association societe groupe groupement reseau hospitalier hospitaliere universitaire
"""
)
_OF = frozenset({"de", "d'", "du", "des", "la", "l'"})
_CIVIL_WORDS = _words("monsieur madame mademoiselle patient patiente mr mme mlle")
_DOCTOR_WORDS = _words("dr pr docteur docteurs professeur doctoresse prof")


_CIVIL_ENDINGS = ("monsieur", "madame", "mademoiselle", "patient", "patiente", "mr", "mme", "mlle")


def _civil_before(text: str, start: int) -> bool:
    """Cheap test for a civil title or "patient(e)" right before ``start``."""
    if text[start - 1 : start] not in (" ", "\t", ":"):  # most chains follow other text
        return False
    tail = text[max(0, start - 14) : start].rstrip(" \t:")
    if not tail or tail[-1] not in "rReEtT":  # the last letters of _CIVIL_ENDINGS
        return False
    tail = tail.lower()
    if not tail.endswith(_CIVIL_ENDINGS):
        return False
    return any(
        tail.endswith(w) and (len(tail) == len(w) or not tail[-len(w) - 1].isalpha())
        for w in _CIVIL_ENDINGS
    )


_FORM_LABEL = re.compile(
    r"(?=[np])\b(?:nom|pr[ée]?nom|nom\s+de\s+naissance|nom\s+d['’]usage|nom\s+marital)\s{0,3}:\s{0,3}$",
    re.IGNORECASE,
)
"""A form's name field ("Nom : DUPONT", "Prénom : Jeanne"): photographed labels and record
screens, read by OCR, which may drop the accent ("Prnom")."""


def _context_before(text: str, start: int) -> str:
    """Classify the words just before a capitalised run: 'doctor', 'civil', 'skip' or ''."""
    if _FORM_LABEL.search(text, max(0, start - 24), start):
        return "civil"
    words = text[max(0, start - 40) : start].split()
    if not words:
        return ""
    adjacent = start > 0 and (text[start - 1].isspace() or text[start - 1] in ".:'’")
    last = norm(words[-1].strip('(),;:«»"')).rstrip(".")
    if not adjacent:
        return ""
    if last in _DOCTOR_WORDS:
        return "doctor"
    if last in _CIVIL_WORDS:
        return "civil"
    if last.endswith("'") and len(last) > 2:  # "d'" glued to the previous word is rare
        last = last[-2:]
    for w in reversed(words[-4:-1] if last in _OF else words[-1:]):
        key = norm(w.strip('(),;:«»"')).rstrip(".")
        if key in _OF:
            continue
        key = key.rsplit("'", 1)[-1]  # "l'Hôpital" -> hopital
        return "skip" if key in _SKIP_NEXT or key.rstrip("s") in _SKIP_NEXT else ""
    return ""


_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n•\-–]\s*|\(\s*)$")


_INITIALS = re.compile(r"[A-Z](?:[.\-]+[A-Z])*\.?$")


# The token classifications below are cached: a post's capitalised words are mostly the same
# few hundred words (sentence starts, acronyms, titles), and each costs several set lookups.
@lru_cache(maxsize=16384)
def _marker(tok: str) -> str:
    """What a chain's token says of the words after it: 'doctor' (Dr, Pr), 'skip' (a month, a
    drug, an eponym's disease), 'civil' (M., Mme) or 'patient'; '' for any other word."""
    key = norm(tok)
    if key in _DOCTOR:
        return "doctor"
    if key in _SKIP_NEXT:
        return "skip"
    if key in _CIVIL:
        return "civil"
    return "patient" if key in _PATIENT else ""


@lru_cache(maxsize=16384)
def _name_like(tok: str) -> str:
    """Classify a capitalised token: 'I' initial, 'U' upper-case word, 'C' capitalised word,
    '' when it is a title, a common word, an acronym, an eponym or too short."""
    if norm(tok) in _TITLES_OR_PATIENT:
        return ""
    letters = [c for c in tok if c.isalpha()]
    if not letters:
        return ""
    key = norm(tok.rstrip("."))
    if len(letters) <= 3 and _INITIALS.match(tok):
        return "I"  # J. / J.-M. / M.M
    if len(letters) == 1:
        return "I" if "A" <= letters[0] <= "Z" else ""
    if key in COMMON or key in _EPONYMS:
        return ""
    if tok.rstrip(".").isupper():
        if key in ACRONYMS or len(letters) < 2:
            return ""
        if len(letters) <= 3 and key not in FIRST_NAMES and key not in SURNAMES:
            return ""  # short all-caps words are mostly acronyms
        if not any(c in "AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸ" for c in tok):
            return ""
        return "U"
    return "C"


@lru_cache(maxsize=16384)
def _is_gazetteer(tok: str) -> bool:
    key = norm(tok.rstrip("."))
    if key in FIRST_NAMES or key in SURNAMES:
        return True
    if "-" in key:  # Jean-Luc, Marie-Claire
        return all(part in FIRST_NAMES for part in key.split("-") if part)
    return False


def _lone_word_may_be_name(text: str, start: int, word: str) -> bool:
    """A capitalised word alone in its chain is a name only if known or after a title: most
    chains are such words (sentence starts), so this is tested before anything else."""
    return _is_known_name(word) or _civil_before(text, start)


@lru_cache(maxsize=16384)
def _is_known_name(word: str) -> bool:
    return norm(word.rstrip(".")) in _KNOWN_NAMES


def find(text: str, out: list[Cand]) -> None:
    """Append the names of patients (not colleagues) in `text` to `out`."""
    for chain in _CHAIN.finditer(text):
        word = chain.group(0)
        if " " not in word and "\t" not in word and "." not in word[:-1]:
            if _lone_word_may_be_name(text, chain.start(), word):
                _name_chain(text, [(chain.start(), chain.end(), word)], out)
            continue
        toks: list[tuple[int, int, str]] = []
        for t in _TOKEN_RE.finditer(chain.group(0)):
            s, word = chain.start() + t.start(), t.group(0)
            head, dot, rest = word.partition(".")
            if dot and rest and norm(head + ".") in TITLES:  # "Pr.Plecis", "M.BRIAT"
                toks.append((s, s + len(head) + 1, head + "."))
                toks.append((s + len(head) + 1, s + len(word), rest))
            else:
                toks.append((s, s + len(word), word))
        _name_chain(text, toks, out)


def _name_chain(text: str, toks: list[tuple[int, int, str]], out: list[Cand]) -> None:
    """Find names in one chain of adjacent capitalised words (`toks`: start, end, word).

    Walks the chain left to right with a `mode` set by the last marker word: "Dr"/"Pr" (a
    colleague: what follows is not a finding), a skip word (a month, a drug…), a civil title
    or "patient(e)" (what follows is a name, even a lone capitalised word). Between markers it
    takes a run of up to five name-like words (`_name_like`: U = UPPERCASE, C = Capitalised,
    I = initial) and flags the run as a name by how strong it looks: after a title; two words
    one of which is in the first-name/surname gazetteers; an UPPERCASE word beside another
    name-like word; or a lone known first name that does not start a sentence (unless a verb
    or an age follows) and is not followed by a dose ("Diane 35"). Appends candidates to
    `out`; linear in the chain's length.
    """
    n = len(toks)
    if n == 1 and not _lone_word_may_be_name(text, toks[0][0], toks[0][2]):
        return
    i = 0
    # Context just before the chain decides for its first run.
    mode = _context_before(text, toks[0][0])
    while i < n:
        marker = _marker(toks[i][2])
        if marker:
            # "M" without a dot only acts as a title before a name-like word
            mode, i = marker, i + 1
            continue
        kinds: list[str] = []
        j = i
        while j < n and len(kinds) < 5:
            k = _name_like(toks[j][2])
            if not k:
                break
            kinds.append(k)
            j += 1
            if k != "I" and toks[j - 1][2].endswith("."):
                break  # "...au TROD. Oseltamivir": a sentence ends here
        if not kinds:
            mode, i = "", i + 1
            continue
        if (
            j - i >= 2
            and kinds[0] == "C"
            and not _is_gazetteer(toks[i][2])
            and _SENTENCE_START.search(text[max(0, toks[i][0] - 3) : toks[i][0]])
            and text[toks[i][1] : toks[i + 1][0]].strip()  # joined by a particle: "Résultats de"
        ):
            i, kinds = i + 1, kinds[1:]  # "Résultats de DUMONT Paulette": capital of a sentence
        run = toks[i:j]
        s, e = run[0][0], run[-1][1]
        if mode == "doctor" or mode == "skip":
            pass
        elif mode in ("civil", "patient"):
            strong = any(k == "U" for k in kinds) or any(_is_gazetteer(t[2]) for t in run)
            if any(k != "I" for k in kinds) and (mode == "civil" or strong or len(run) >= 2):
                out.append((P_NAME, 0.85 if mode == "civil" else 0.75, s, e, "name"))
        else:
            gaz = [_is_gazetteer(t[2]) for t in run]
            first = [norm(t[2].rstrip(".")) in FIRST_NAMES for t in run]
            has_upper = "U" in kinds
            if len(run) >= 2 and any(gaz) and not all(k == "I" for k in kinds):
                out.append((P_NAME, 0.8, s, e, "name"))
            elif (len(run) >= 2 and has_upper and ("C" in kinds or "I" in kinds)) or (
                len(run) == 2 and kinds[0] == "I" and "." in run[0][2] and kinds[1] in "UC"
            ):
                out.append((P_NAME, 0.6, s, e, "name"))
            elif len(run) == 1 and first[0] and kinds[0] == "C" and not _DOSE_AFTER.match(text, e):
                prev = text[max(0, s - 3) : s]
                if not _SENTENCE_START.search(prev) or _following_is_verbish(text, e):
                    out.append((P_NAME, 0.5, s, e, "name"))
        mode, i = "", j


_VERBISH = re.compile(
    r"[ ,]{1,4}(?:\d{1,3}\s{0,3}ans|est|a|avait|présente|presente|consulte|vient|revient|se\s"
    r"|s['’]|qui|dont|âg[ée]e?|age[ée]?)\b",
    re.IGNORECASE,
)


# A lone first name followed by a number that is not an age, nor the start of a longer number,
# is a drug and its dose: "Diane 35", "Carlin 75".
_DOSE_AFTER = re.compile(
    r"[ \t]{1,2}\d{1,4}(?:[.,]\d{1,2})?(?!\d)(?![ \t]?\d)"
    r"(?![ \t]{0,2}(?:ans?|mois|semaines?|sem|jours?|j|h|heures?)\b)",
    re.IGNORECASE,
)


def _following_is_verbish(text: str, end: int) -> bool:
    """A sentence-initial first name is still a person when a verb or an age follows."""
    return bool(_VERBISH.match(text, end))
