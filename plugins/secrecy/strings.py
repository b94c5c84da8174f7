"""What the secrecy feature says, in French and English. Never a found value: kinds only."""

STRINGS = {
    "secrecy.rules.summary": {
        "fr": "Affiche les règles d’anonymisation.",
        "en": "Shows the anonymization rules.",
    },
    "secrecy.rules.pin.summary": {
        "fr": "Épingle les règles dans le salon (modérateurs).",
        "en": "Pins the rules in the room (moderators).",
    },
    "secrecy.redact.summary": {
        "fr": "Dans le fil d’un cas : masque votre dernier message signalé.",
        "en": "In a case thread: removes your last flagged message.",
    },
    # ---- kinds (never the values) ------------------------------------------------------
    "secrecy.kind.name": {"fr": "un nom", "en": "a name"},
    "secrecy.kind.nir": {
        "fr": "un numéro de sécurité sociale (NIR)",
        "en": "a French social security number (NIR)",
    },
    "secrecy.kind.phone": {"fr": "un numéro de téléphone", "en": "a phone number"},
    "secrecy.kind.email": {"fr": "une adresse e-mail", "en": "an e-mail address"},
    "secrecy.kind.address": {"fr": "une adresse", "en": "a postal address"},
    "secrecy.kind.birth_date": {"fr": "une date de naissance", "en": "a date of birth"},
    "secrecy.kind.date": {"fr": "une date précise", "en": "an exact date"},
    "secrecy.kind.record_number": {"fr": "un numéro de dossier", "en": "a record number"},
    "secrecy.kind.url_with_token": {
        "fr": "un lien avec jeton d’accès",
        "en": "a link with an access token",
    },
    "secrecy.kind.gps": {"fr": "la position GPS", "en": "the GPS position"},
    "secrecy.kind.serial": {
        "fr": "le numéro de série de l’appareil",
        "en": "the camera’s serial number",
    },
    "secrecy.kind.shot_date": {
        "fr": "la date de prise de vue",
        "en": "the date the photo was taken",
    },
    "secrecy.kind.owner": {
        "fr": "le nom du propriétaire de l’appareil",
        "en": "the camera owner’s name",
    },
    "secrecy.kind.description": {
        "fr": "un identifiant dans la description de la photo (ses métadonnées)",
        "en": "an identifier in the photo’s description (its metadata)",
    },
    "secrecy.kind.thumbnail": {
        "fr": "une miniature intégrée (elle peut montrer ce que le recadrage a retiré)",
        "en": "an embedded thumbnail (it may show what a crop removed)",
    },
    "secrecy.kind.face": {"fr": "un visage", "en": "a face"},
    "secrecy.kind.written_name": {
        "fr": "un nom écrit sur l’image",
        "en": "a name written on the picture",
    },
    "secrecy.kind.written_nir": {
        "fr": "un numéro de sécurité sociale (NIR) écrit sur l’image",
        "en": "a French social security number (NIR) written on the picture",
    },
    "secrecy.kind.written_phone": {
        "fr": "un numéro de téléphone écrit sur l’image",
        "en": "a phone number written on the picture",
    },
    "secrecy.kind.written_email": {
        "fr": "une adresse e-mail écrite sur l’image",
        "en": "an e-mail address written on the picture",
    },
    "secrecy.kind.written_address": {
        "fr": "une adresse écrite sur l’image",
        "en": "a postal address written on the picture",
    },
    "secrecy.kind.written_birth_date": {
        "fr": "une date de naissance écrite sur l’image",
        "en": "a date of birth written on the picture",
    },
    "secrecy.kind.written_date": {
        "fr": "une date précise écrite sur l’image",
        "en": "an exact date written on the picture",
    },
    "secrecy.kind.written_record_number": {
        "fr": "un numéro de dossier écrit sur l’image",
        "en": "a record number written on the picture",
    },
    "secrecy.kind.written_url_with_token": {
        "fr": "un lien avec jeton d’accès écrit sur l’image",
        "en": "a link with an access token written on the picture",
    },
    "secrecy.kind.other": {"fr": "une donnée identifiante", "en": "identifying data"},
    "secrecy.and": {"fr": " et ", "en": " and "},
    "secrecy.stats": {
        "fr": "Secret médical : {total} alerte(s) — {details}.",
        "en": "Medical secrecy: {total} warning(s) — {details}.",
    },
    "secrecy.stats.none": {
        "fr": "Secret médical : aucune alerte.",
        "en": "Medical secrecy: no warnings.",
    },
    "secrecy.stats.item": {"fr": "{kind} × {count}", "en": "{kind} × {count}"},
    # ---- warnings ------------------------------------------------------------------------
    "secrecy.warn": {
        "fr": "{poster}, ce message semble contenir des données identifiantes : {kinds}.",
        "en": "{poster}, this message seems to contain identifying data: {kinds}.",
    },
    "secrecy.warn.edited": {
        "fr": "{poster}, après modification, ce message semble encore contenir des données "
        "identifiantes : {kinds}.",
        "en": "{poster}, after the edit, this message still seems to contain identifying "
        "data: {kinds}.",
    },
    "secrecy.rule": {
        "fr": "Rappel : un cas partagé entre confrères ne doit pas permettre d’identifier le "
        "patient (code de la santé publique, art. R.4127-73 ; secret médical, "
        "art. R.4127-4).",
        "en": "Reminder: a case shared with colleagues must not allow identifying the patient "
        "(French public health code, art. R.4127-73; medical secrecy, art. R.4127-4).",
    },
    "secrecy.fix": {
        "fr": "Pour corriger : tapez {prefix}redact dans ce fil (je masque le message si j’en "
        "ai le droit, sinon supprimez-le vous-même), puis reposez-le anonymisé "
        "(âge, sexe, contexte — sans nom, dates précises ni coordonnées).",
        "en": "To fix it: type {prefix}redact in this thread (I remove the message if I am "
        "allowed to, otherwise delete it yourself), then post it again anonymized "
        "(age, sex, context — no names, exact dates or contact details).",
    },
    "secrecy.cleared": {
        "fr": "Merci : après modification, je ne détecte plus de donnée identifiante.",
        "en": "Thank you: after the edit, I no longer detect identifying data.",
    },
    "secrecy.auto_redacted": {
        "fr": "{poster}, j’ai masqué votre message : il contenait {kinds}. Reposez-le "
        "anonymisé (sans ces données).",
        "en": "{poster}, I removed your message: it contained {kinds}. Please post it again "
        "anonymized (without this data).",
    },
    "secrecy.reason": {
        "fr": "Données identifiantes (secret médical)",
        "en": "Identifying data (medical secrecy)",
    },
    # ---- photos ----------------------------------------------------------------------------
    "secrecy.photo": {
        "fr": "{poster}, cette photo semble permettre d’identifier le patient : {kinds}.",
        "en": "{poster}, this photo seems to identify the patient: {kinds}.",
    },
    "secrecy.photo.fix": {
        "fr": "Tapez {prefix}clean dans ce fil : je poste une copie nettoyée (sans métadonnées, "
        "visages et écrits identifiants floutés), puis supprimez l’original ({prefix}redact). "
        "Vérifiez aussi qu’on ne voit ni tatouage, ni bracelet d’identification, ni écran avec "
        "un nom.",
        "en": "Type {prefix}clean in this thread: I post a cleaned copy (no metadata, faces and "
        "identifying writing blurred), then remove the original ({prefix}redact). Also check "
        "that no tattoo, ID wristband or screen showing a name is visible.",
    },
    "secrecy.photo.busy": {
        "fr": "{poster}, trop de photos attendent déjà d’être vérifiées : celle-ci ne le sera "
        "pas, ni les suivantes tant que la file est pleine. Vérifiez vous-même qu’elles ne "
        "montrent ni visage, ni nom, ni date de naissance, et qu’elles ne portent pas de "
        "position GPS.",
        "en": "{poster}, too many photos are already waiting to be checked: this one will not "
        "be, nor the next ones while the queue is full. Check yourself that they show no face, "
        "name or birth date, and carry no GPS position.",
    },
    "secrecy.clean.busy": {
        "fr": "Trop de photos attendent déjà leur tour : refaites {prefix}clean dans une "
        "minute.",
        "en": "Too many photos are already waiting their turn: try {prefix}clean again "
        "in a minute.",
    },
    "secrecy.clean.summary": {
        "fr": "Dans le fil d’un cas : poste une copie nettoyée de votre photo signalée.",
        "en": "In a case thread: posts a cleaned copy of your flagged photo.",
    },
    "secrecy.clean.done": {
        "fr": "{poster}, voici une copie nettoyée de votre photo : métadonnées retirées, "
        "{regions} zone(s) floutée(s). Vérifiez-la, puis supprimez l’original ({prefix}redact "
        "dans ce fil).",
        "en": "{poster}, here is a cleaned copy of your photo: metadata removed, {regions} "
        "region(s) blurred. Check it, then remove the original ({prefix}redact in this "
        "thread).",
    },
    "secrecy.clean.filename": {"fr": "photo-nettoyee.jpg", "en": "cleaned-photo.jpg"},
    "secrecy.clean.nothing": {
        "fr": "Je n’ai signalé dans ce fil aucune photo que vous puissiez nettoyer.",
        "en": "I have flagged no photo in this thread that you may clean.",
    },
    "secrecy.clean.failed": {
        "fr": "Je n’ai pas pu nettoyer cette photo (elle a disparu ou je ne sais pas la lire) : "
        "supprimez-la ({prefix}redact) et reposez-en une capture d’écran recadrée.",
        "en": "I could not clean this photo (it is gone or I cannot read it): remove it "
        "({prefix}redact) and post a cropped screenshot of it instead.",
    },
    # ---- !redact ---------------------------------------------------------------------------
    "secrecy.redact.done": {
        "fr": "Message masqué. Vous pouvez le reposer anonymisé.",
        "en": "Message removed. You can post it again anonymized.",
    },
    "secrecy.redact.cannot": {
        "fr": "{poster}, je n’ai pas le droit de masquer des messages dans ce salon : "
        "supprimez-le vous-même (menu du message → Supprimer), puis reposez-le anonymisé.",
        "en": "{poster}, I am not allowed to remove messages in this room: please delete it "
        "yourself (message menu → Remove), then post it again anonymized.",
    },
    "secrecy.redact.nothing": {
        "fr": "Je n’ai rien signalé dans ce fil que vous puissiez masquer.",
        "en": "I have flagged nothing in this thread that you may remove.",
    },
    "secrecy.redact.where": {
        "fr": "Tapez {prefix}redact dans le fil du cas concerné.",
        "en": "Type {prefix}redact in the thread of the case concerned.",
    },
    # ---- room checks -----------------------------------------------------------------------
    "secrecy.refuse": {
        "fr": "Je n’ouvre pas de cas dans ce salon : il n’est pas assez protégé pour des "
        "données de santé.",
        "en": "I do not open cases in this room: it is not protected enough for health data.",
    },
    "secrecy.refuse.encryption": {
        "fr": "• le chiffrement de bout en bout n’est pas activé — un administrateur doit "
        "l’activer (Paramètres du salon → Sécurité → Chiffré) ;",
        "en": "• end-to-end encryption is off — a room admin must turn it on "
        "(Room settings → Security → Encrypted);",
    },
    "secrecy.refuse.public": {
        "fr": "• le salon est public — un administrateur doit le passer sur invitation "
        "(Paramètres du salon → Sécurité → Accès : Privé) ;",
        "en": "• the room is public — a room admin must make it invite-only "
        "(Room settings → Security → Access: Private);",
    },
    "secrecy.refuse.history": {
        "fr": "• l’historique est lisible par tous — un administrateur doit le réserver aux "
        "membres (Paramètres du salon → Sécurité → Historique : Membres uniquement).",
        "en": "• the history is readable by anyone — a room admin must restrict it to "
        "members (Room settings → Security → History: Members only).",
    },
    # ---- rules -----------------------------------------------------------------------------
    "secrecy.rules": {
        "fr": "Règles de partage des cas : un cas partagé entre confrères ne doit pas permettre "
        "d’identifier le patient (CSP R.4127-73, secret médical R.4127-4). Donnez l’âge, "
        "le sexe et le contexte clinique ; jamais de nom, initiales, date de naissance, "
        "date précise, adresse, téléphone, e-mail, NIR ni numéro de dossier. Photos : "
        "ni visage, ni tatouage, ni bracelet, ni écran avec un nom, et sans métadonnées.",
        "en": "Case sharing rules: a case shared with colleagues must not allow identifying "
        "the patient (French public health code R.4127-73, medical secrecy R.4127-4). "
        "Give age, sex and clinical context; never a name, initials, date of birth, "
        "exact date, address, phone, e-mail, social security or record number. Photos: "
        "no face, tattoo, wristband or screen with a name, and no metadata.",
    },
    "secrecy.onboarding": {
        "fr": "Bienvenue, {name} : c’est votre premier cas dans ce salon.",
        "en": "Welcome, {name}: this is your first case in this room.",
    },
    "secrecy.onboarding.rule": {
        "fr": "Le patient ne doit pas être identifiable : ni nom, ni date de naissance ou "
        "précise, ni adresse, téléphone ou n° de dossier ; photos sans visage ni métadonnées.",
        "en": "The patient must not be identifiable: no name, birth or exact date, address, "
        "phone or record number; photos without faces or metadata.",
    },
    "secrecy.onboarding.more": {
        "fr": "Les règles complètes : {prefix}rules",
        "en": "The full rules: {prefix}rules",
    },
    "secrecy.pin.failed": {
        "fr": "Je n’ai pas pu épingler les règles : donnez-moi le droit de modifier les "
        "messages épinglés.",
        "en": "I could not pin the rules: give me the right to change pinned messages.",
    },
}
