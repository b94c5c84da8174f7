"""What the specialties feature says, in French and English."""

STRINGS = {
    "specialties.arg.id": {"fr": "id", "en": "id"},
    "specialties.arg.name": {"fr": "\"Nom\"", "en": "\"Name\""},
    "specialties.arg.aliases": {"fr": "alias", "en": "alias"},
    "specialties.arg.words": {"fr": "mot", "en": "word"},
    "specialties.list.summary": {
        "fr": "Liste les spécialités du salon (alias, mots-clés, volontaires).",
        "en": "Lists the room's specialties (aliases, keywords, volunteers).",
    },
    "specialties.add.summary": {
        "fr": "Ajoute une spécialité au salon (administrateurs du salon).",
        "en": "Adds a specialty to the room (room admins).",
    },
    "specialties.remove.summary": {
        "fr": "Retire une spécialité du salon (administrateurs du salon).",
        "en": "Removes a specialty from the room (room admins).",
    },
    "specialties.rename.summary": {
        "fr": "Renomme une spécialité ; son id ne change pas (administrateurs du salon).",
        "en": "Renames a specialty; its id stays the same (room admins).",
    },
    "specialties.keywords.summary": {
        "fr": "Montre, ajoute ou retire des mots-clés de détection (administrateurs pour "
              "modifier). Mots composés entre guillemets.",
        "en": "Shows, adds or removes detection keywords (room admins to change). "
              "Multi-word keywords in double quotes.",
    },
    "specialties.reset.summary": {
        "fr": "Revient aux spécialités par défaut (administrateurs du salon).",
        "en": "Returns to the default specialties (room admins).",
    },
    "specialties.list.header": {
        "fr": "Spécialités de ce salon ({count}) :", "en": "Specialties of this room ({count}):",
    },
    "specialties.list.aliases": {"fr": "alias {aliases}", "en": "aliases {aliases}"},
    "specialties.list.keywords": {"fr": "{count} mot(s)-clé(s)", "en": "{count} keyword(s)"},
    "specialties.list.changed": {"fr": "modifiée ici", "en": "changed here"},
    "specialties.list.removed": {"fr": "Retirées : {ids}", "en": "Removed: {ids}"},
    "specialties.list.footer": {
        "fr": "Administrateurs : {prefix}specialty add|remove|rename|keywords|reset "
              "(détail : {prefix}help specialty).",
        "en": "Admins: {prefix}specialty add|remove|rename|keywords|reset "
              "(details: {prefix}help specialty).",
    },
    "specialties.removed_name": {"fr": "{name} (retirée)", "en": "{name} (removed)"},
    "specialties.unknown": {
        "fr": "Spécialité inconnue dans ce salon : « {name} ». Liste : {prefix}specialties",
        "en": "No such specialty in this room: “{name}”. List: {prefix}specialties",
    },
    "specialties.bad_id": {
        "fr": "« {id} » ne convient pas comme id : lettres minuscules sans accent, chiffres "
              "et _, 30 signes au plus, en commençant par une lettre (ex. dermato).",
        "en": "“{id}” is not a valid id: lowercase letters without accents, digits and _, "
              "at most 30 characters, starting with a letter (e.g. dermato).",
    },
    "specialties.bad_alias": {
        "fr": "« {alias} » ne peut pas servir de hashtag (lettres, chiffres, _).",
        "en": "“{alias}” cannot be used as a hashtag (letters, digits, _).",
    },
    "specialties.bad_name": {
        "fr": "Le nom doit faire de 1 à {max} signes (entre guillemets s’il a des espaces).",
        "en": "The name must be 1 to {max} characters (in double quotes if it has spaces).",
    },
    "specialties.bad_keyword": {
        "fr": "Mot-clé refusé : « {word} » (vide ou plus de {max} signes).",
        "en": "Keyword refused: “{word}” (empty or longer than {max} characters).",
    },
    "specialties.taken": {
        "fr": "#{tag} désigne déjà la spécialité #{other} dans ce salon.",
        "en": "#{tag} already names the specialty #{other} in this room.",
    },
    "specialties.exists": {
        "fr": "La spécialité #{id} existe déjà. Pour la modifier : {prefix}specialty rename "
              "ou {prefix}specialty keywords.",
        "en": "The specialty #{id} already exists. To change it: {prefix}specialty rename "
              "or {prefix}specialty keywords.",
    },
    "specialties.added": {
        "fr": "{who} a ajouté la spécialité #{id} ({name}). Mots-clés : "
              "{prefix}specialty keywords {id} add <mot>…",
        "en": "{who} added the specialty #{id} ({name}). Keywords: "
              "{prefix}specialty keywords {id} add <word>…",
    },
    "specialties.removed": {
        "fr": "{who} a retiré la spécialité #{id} ({name}).",
        "en": "{who} removed the specialty #{id} ({name}).",
    },
    "specialties.undo": {
        "fr": "Pour la rétablir : {prefix}specialty add {id} \"Nom\" (ou {prefix}specialty "
              "reset pour tout remettre par défaut).",
        "en": "To bring it back: {prefix}specialty add {id} \"Name\" (or {prefix}specialty "
              "reset for all the defaults).",
    },
    "specialties.renamed": {
        "fr": "{who} a renommé #{id} : {old} → {new}.",
        "en": "{who} renamed #{id}: {old} → {new}.",
    },
    "specialties.keywords.list": {
        "fr": "Mots-clés de #{id} : {words}", "en": "Keywords of #{id}: {words}",
    },
    "specialties.keywords.added": {
        "fr": "{who} a ajouté {count} mot(s)-clé(s) à #{id} : {words}.",
        "en": "{who} added {count} keyword(s) to #{id}: {words}.",
    },
    "specialties.keywords.removed": {
        "fr": "{who} a retiré {count} mot(s)-clé(s) de #{id} : {words}.",
        "en": "{who} removed {count} keyword(s) from #{id}: {words}.",
    },
    "specialties.keywords.nothing": {
        "fr": "Rien à changer pour #{id}.", "en": "Nothing to change for #{id}.",
    },
    "specialties.reset": {
        "fr": "{who} a rétabli les spécialités par défaut ({count} modification(s) oubliée(s)).",
        "en": "{who} restored the default specialties ({count} change(s) forgotten).",
    },
    "specialties.reset.nothing": {
        "fr": "Ce salon utilise déjà les spécialités par défaut.",
        "en": "This room already uses the default specialties.",
    },
    # session 5: the room teaches the tagger (issue 27)
    "specialties.learned_why": {"fr": "appris dans ce salon : {words}",
                                "en": "learned in this room: {words}"},
    "specialties.tagger.summary": {
        "fr": "Montre ce que les cas confirmés du salon ont appris au classement "
              "(administrateurs du salon).",
        "en": "Shows what the room's confirmed cases taught the tagger (room admins).",
    },
    "specialties.tagger_forget.summary": {
        "fr": "Oublie ce que le salon a appris, pour une spécialité ou tout "
              "(administrateurs du salon).",
        "en": "Forgets what the room taught the tagger, for one specialty or all "
              "(room admins).",
    },
    "specialties.tagger.off": {
        "fr": "L'apprentissage est désactivé sur ce serveur (specialties.learn: off).",
        "en": "Learning is off on this server (specialties.learn: off).",
    },
    "specialties.tagger.empty": {
        "fr": "Le salon n'a encore rien appris : chaque spécialité confirmée "
              "(1️⃣ 2️⃣ 3️⃣, {prefix}tag) lui apprend des mots du vocabulaire médical.",
        "en": "The room has learned nothing yet: each confirmed specialty "
              "(1️⃣ 2️⃣ 3️⃣, {prefix}tag) teaches it words of the medical vocabulary.",
    },
    "specialties.tagger.header": {
        "fr": "Mots appris dans ce salon, par spécialité (les plus forts d'abord) :",
        "en": "Words learned in this room, per specialty (strongest first):",
    },
    "specialties.tagger.header_pooled": {
        "fr": "Mots appris par les salons de ce serveur (mis en commun), par spécialité :",
        "en": "Words learned by this server's rooms (pooled), per specialty:",
    },
    "specialties.tagger.footer": {
        "fr": "Seuls des mots du vocabulaire fourni sont gardés, jamais le texte des cas. "
              "Oublier : {prefix}tagger forget [spécialité]",
        "en": "Only words of the shipped vocabulary are kept, never the cases' text. "
              "Forget: {prefix}tagger forget [specialty]",
    },
    "specialties.tagger.forgot_all": {
        "fr": "{who} a fait oublier au classement tout ce que le salon lui avait appris.",
        "en": "{who} made the tagger forget everything the room taught it.",
    },
    "specialties.tagger.forgot": {
        "fr": "{who} a fait oublier au classement ce que le salon lui avait appris pour #{id}.",
        "en": "{who} made the tagger forget what the room taught it for #{id}.",
    },
    "specialties.tagger.pooled_forget": {
        "fr": "Ce serveur met en commun ce que tous ses salons apprennent : seul son opérateur "
              "peut l'oublier.",
        "en": "This server pools what all its rooms learn: only its operator can forget it.",
    },
    "specialties.learned_why_pooled": {"fr": "appris par les salons : {words}",
                                       "en": "learned by the rooms: {words}"},
}
