"""What the cases feature says, in French and English."""

STRINGS = {
    "cases.arg.text": {"fr": "texte", "en": "text"},
    "cases.arg.number": {"fr": "n°", "en": "number"},
    "cases.arg.summary": {"fr": "résumé", "en": "summary"},
    "cases.arg.filter": {"fr": "spécialité|mine", "en": "specialty|mine"},
    "cases.arg.days": {"fr": "jours", "en": "days"},
    "cases.arg.specialties": {"fr": "[n°] <spécialité>", "en": "[number] <specialty>"},
    "cases.filter.mine": {"fr": "mine, moi, miens, mes cas", "en": "mine, me, my cases"},
    "cases.case.summary": {
        "fr": "Ouvre un cas, en un seul message (avec un n° : le montre).",
        "en": "Opens a case, in one message (with a number: shows it).",
    },
    "cases.resolve.summary": {
        "fr": "Clôt le cas (dans son fil) ; ou ✅ sur la réponse utile.",
        "en": "Resolves the case (in its thread); or ✅ on the useful answer.",
    },
    "cases.reopen.summary": {"fr": "Rouvre un cas.", "en": "Reopens a case."},
    "cases.cases.summary": {
        "fr": "Les cas ouverts (mine : les vôtres).",
        "en": "The open cases (mine: yours).",
    },
    "cases.tag.summary": {
        "fr": "Change la spécialité (dans le fil du cas).",
        "en": "Changes the specialty (in the case's thread).",
    },
    "cases.stats.summary": {
        "fr": "Statistiques du salon sur la période (30 jours par défaut).",
        "en": "The room's statistics over the period (30 days by default).",
    },
    "cases.stats_text.summary": {
        "fr": "Les mêmes statistiques, en texte seulement (sans graphique).",
        "en": "The same statistics, as text only (no chart).",
    },
    "cases.template": {
        "fr": "Postez le cas en un seul message, sans nom ni date de naissance :\n"
              "{prefix}case Âge, sexe · contexte (antécédents, traitements) · ce qui a été "
              "fait (examens, résultats) · votre question · #spécialité (facultatif)\n"
              "Exemple : {prefix}case F 45 ans, plaques squameuses coudes depuis 2 mois, "
              "dermocorticoïdes sans effet. Psoriasis ? Quel traitement ? #dermato",
        "en": "Post the case as one message, without names or birth dates:\n"
              "{prefix}case Age, sex · context (history, treatments) · what was done "
              "(tests, results) · your question · #specialty (optional)\n"
              "Example: {prefix}case F 45, scaly plaques on elbows for 2 months, topical "
              "steroids failed. Psoriasis? Which treatment? #dermato",
    },
    "cases.status.open": {"fr": "ouvert", "en": "open"},
    "cases.status.resolved": {"fr": "résolu", "en": "resolved"},
    "cases.status.withdrawn": {"fr": "retiré", "en": "withdrawn"},
    "cases.status.closed": {"fr": "clos sans résolution", "en": "closed without resolution"},
    "cases.unclassified": {"fr": "non classé", "en": "unclassified"},
    "cases.card.title": {"fr": "Cas #{number} · {specialties} · {status}",
                         "en": "Case #{number} · {specialties} · {status}"},
    "cases.card.poster": {"fr": "Posté par {poster}", "en": "Posted by {poster}"},
    "cases.card.hashtag": {"fr": "Spécialité choisie par hashtag : {tags}",
                           "en": "Specialty chosen by hashtag: {tags}"},
    "cases.card.detected": {"fr": "Détecté : {words}", "en": "Detected: {words}"},
    "cases.card.keywords": {"fr": "Spécialité détectée par mots-clés",
                            "en": "Specialty detected from keywords"},
    "cases.card.guess": {"fr": "{name} ?", "en": "{name}?"},
    "cases.card.proposed": {
        "fr": "Spécialité à confirmer : {choices}. Choisissez d’une réaction sur ce message "
              "(auteur ou modérateur), ou {prefix}tag <spécialité> dans ce fil.",
        "en": "Specialty to confirm: {choices}. Pick one with a reaction on this message "
              "(poster or moderator), or {prefix}tag <specialty> in this thread.",
    },
    "cases.card.manual": {"fr": "Spécialité choisie dans le fil",
                          "en": "Specialty chosen in the thread"},
    "cases.card.untagged": {
        "fr": "Non classé : ajoutez un #hashtag de spécialité, ou {prefix}tag <spécialité> "
              "dans ce fil.",
        "en": "Unclassified: add a specialty #hashtag, or {prefix}tag <specialty> in this "
              "thread.",
    },
    "cases.card.how": {
        "fr": "Pour clore : ✅ (emoji : cherchez « check ») sur la réponse utile ou sur cette "
              "carte, ou {prefix}resolve [résumé].",
        "en": "To close: ✅ (emoji: search “check”) on the useful answer or on this card, or "
              "{prefix}resolve [summary].",
    },
    "cases.card.resolved_by": {"fr": "Résolu par {who}", "en": "Resolved by {who}"},
    "cases.card.accepted": {"fr": "Réponse retenue : {link}", "en": "Accepted answer: {link}"},
    "cases.card.summary_link": {"fr": "Résumé : {link}", "en": "Summary: {link}"},
    "cases.card.this_answer": {"fr": "voir la réponse", "en": "see the answer"},
    "cases.card.this_summary": {"fr": "voir le message", "en": "see the message"},
    "cases.card.withdrawn": {"fr": "Le message du cas a été supprimé.",
                             "en": "The case message was deleted."},
    "cases.card.closed": {"fr": "Clos automatiquement faute de clôture.",
                          "en": "Closed automatically, nobody closed it."},
    "cases.card.reopen": {"fr": "Rouvrir : {prefix}reopen dans ce fil.",
                          "en": "Reopen: {prefix}reopen in this thread."},
    "cases.card.replies": {"fr": "{count} réponse(s)", "en": "{count} answer(s)"},
    "cases.resolved": {"fr": "Cas #{number} résolu. Merci à tous !",
                       "en": "Case #{number} resolved. Thanks, everyone!"},
    "cases.reopened": {"fr": "Cas #{number} rouvert.", "en": "Case #{number} reopened."},
    "cases.retagged": {"fr": "Cas #{number} : {specialties}.",
                       "en": "Case #{number}: {specialties}."},
    "cases.already": {"fr": "Le cas #{number} est déjà {status}.",
                      "en": "Case #{number} is already {status}."},
    "cases.refused": {
        "fr": "Seuls l’auteur du cas ({poster}) ou un modérateur peuvent faire cela.",
        "en": "Only the case's author ({poster}) or a moderator can do that.",
    },
    "cases.bad_number": {
        "fr": "Numéro de cas non valable : écrivez-le en chiffres (au plus {max}).",
        "en": "Not a valid case number: write it in digits (at most {max}).",
    },
    "cases.usage.case": {"fr": "case <n°>", "en": "case <number>"},
    "cases.usage.resolve": {"fr": "resolve <n°> [résumé]", "en": "resolve <number> [summary]"},
    "cases.usage.reopen": {"fr": "reopen <n°>", "en": "reopen <number>"},
    "cases.usage.tag": {"fr": "tag <n°> <spécialité>…", "en": "tag <number> <specialty>…"},
    "cases.unknown": {"fr": "Aucun cas n°{number} dans ce salon.",
                      "en": "No case #{number} in this room."},
    "cases.which": {
        "fr": "Dans le fil d’un cas, ou avec son numéro : {usage}",
        "en": "In a case's thread, or with its number: {usage}",
    },
    "cases.unknown_specialty": {
        "fr": "Spécialité inconnue : {name}. Voir {prefix}specialties.",
        "en": "Unknown specialty: {name}. See {prefix}specialties.",
    },
    "cases.none_open": {"fr": "Aucun cas ouvert.", "en": "No open case."},
    "cases.list.header": {"fr": "Cas ouverts ({count}) :", "en": "Open cases ({count}):"},
    "cases.list.line": {"fr": "#{number} · {specialties} · il y a {age} · {replies} réponse(s) · ",
                        "en": "#{number} · {specialties} · {age} ago · {replies} answer(s) · "},
    "cases.list.open_thread": {"fr": "ouvrir le fil", "en": "open the thread"},
    "cases.remind.unanswered": {
        "fr": "{poster} : pas encore de réponse après {delay}. Précisez la question ou "
              "ajoutez un #hashtag de spécialité pour toucher d’autres confrères.",
        "en": "{poster}: no answer yet after {delay}. Sharpen the question or add a specialty "
              "#hashtag to reach other colleagues.",
    },
    "cases.remind.resolve": {
        "fr": "{poster} : ce cas est-il résolu ? {prefix}resolve [résumé] ou ✅ sur la réponse "
              "utile.",
        "en": "{poster}: is this case resolved? {prefix}resolve [summary] or ✅ on the useful "
              "answer.",
    },
    "cases.autoclosed": {
        "fr": "Cas #{number} clos sans résolution après {delay}. {prefix}reopen pour le rouvrir.",
        "en": "Case #{number} closed without resolution after {delay}. {prefix}reopen to "
              "reopen it.",
    },
    "cases.stats.header": {"fr": "Statistiques sur {days} jours :",
                           "en": "Statistics over {days} days:"},
    "cases.stats.counts": {
        "fr": "Cas ouverts : {opened} · résolus : {resolved} · retirés : {withdrawn} · "
              "clos sans résolution : {closed} · encore ouverts : {still_open}",
        "en": "Cases opened: {opened} · resolved: {resolved} · withdrawn: {withdrawn} · "
              "closed unresolved: {closed} · still open: {still_open}",
    },
    "cases.stats.times": {
        "fr": "Délai médian de première réponse : {first} · de résolution : {resolution} · "
              "répondus en moins d’1 h : {within_hour}",
        "en": "Median time to first answer: {first} · to resolution: {resolution} · "
              "answered within 1 h: {within_hour}",
    },
    "cases.stats.specialty": {"fr": "{name} : {opened}, {resolved}",
                              "en": "{name}: {opened}, {resolved}"},
    "cases.specialty_removed": {
        "fr": "{count} cas ouvert(s) gardent cette étiquette, affichée « retirée ».",
        "en": "{count} open case(s) keep this tag, shown as “removed”.",
    },
    "cases.open_count": {"fr": "{count} cas ouvert(s)", "en": "{count} open case(s)"},
    "cases.stats.na": {"fr": "—", "en": "—"},
    "cases.stats.retagged": {
        "fr": "Étiquettes corrigées par un membre : {changed} sur {tagged} ({share})",
        "en": "Tags changed by a member: {changed} out of {tagged} ({share})",
    },
    "cases.stats.retagged_by": {"fr": "{name} : {changed} sur {cases}",
                                "en": "{name}: {changed} of {cases}"},
    "cases.stats.moves": {"fr": "Corrections les plus fréquentes : {moves}",
                          "en": "Most frequent corrections: {moves}"},
    "cases.stats.proposals": {
        "fr": "Spécialités proposées à confirmer : {proposed} · confirmées telles que "
              "proposées : {first} · autre proposition choisie : {other}",
        "en": "Specialties proposed for confirmation: {proposed} · confirmed as "
              "proposed: {first} · another proposal picked: {other}",
    },
    "cases.stats.tune": {
        "fr": "Pour mieux étiqueter : {prefix}specialite motscles <spécialité> ajouter <mots>",
        "en": "To tag better: {prefix}specialty keywords <specialty> add <words>",
    },
    # session 5: who picked the specialty, and how
    "cases.card.chosen_by": {"fr": "Spécialité choisie par {who} ({how})",
                             "en": "Specialty chosen by {who} ({how})"},
    "cases.card.by_reaction": {"fr": "réaction {key}", "en": "reaction {key}"},
    # session 5: a redrawn card (no evidence at hand) still says the hashtag chose
    "cases.card.by_hashtag": {"fr": "Spécialité choisie par hashtag",
                              "en": "Specialty chosen by hashtag"},
    # session 5: !stats in a thread
    "cases.stats.per_specialty": {"fr": "Par spécialité : {items}",
                                  "en": "By specialty: {items}"},
    "cases.stats.n_opened": {"fr": "{n} ouvert|{n} ouverts", "en": "{n} opened|{n} opened"},
    "cases.stats.n_resolved": {"fr": "{n} résolu|{n} résolus",
                               "en": "{n} resolved|{n} resolved"},
    "cases.stats.n_others": {"fr": "et {n} autre|et {n} autres",
                             "en": "and {n} other|and {n} others"},
    "cases.stats.n_cases": {"fr": "{n} cas|{n} cas", "en": "{n} case|{n} cases"},
}
