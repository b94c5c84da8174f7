"""What the learning feature says, in French and English."""

STRINGS = {
    "learning.arg.specialty": {"fr": "spécialité", "en": "specialty"},
    "learning.arg.days": {"fr": "jours", "en": "days"},
    "learning.arg.period": {"fr": "jours|année", "en": "days|year"},
    "learning.biblio.summary": {
        "fr": "Les références partagées dans les fils des cas (d’une spécialité, sur N jours).",
        "en": "References shared in case threads (of one specialty, over N days).",
    },
    "learning.fmc.summary": {
        "fr": "Vous envoie en message direct chiffré votre journal FMC/DPC (CSV) : les cas "
              "que vous avez postés, auxquels vous avez répondu ou que vous avez résolus.",
        "en": "Sends you, in an encrypted direct message, your CME log (CSV): the cases you "
              "posted, answered or resolved.",
    },
    "learning.bad_period": {
        "fr": "« {value} » n’est ni un nombre de jours ni « année »",
        "en": "“{value}” is neither a number of days nor “year”",
    },
    "learning.biblio.header": {
        "fr": "Références partagées sur {days} jours ({count}) :",
        "en": "References shared over {days} days ({count}):",
    },
    "learning.biblio.line": {"fr": "• {link} — cas n° {number} ({specialties}), {date} · {thread}",
                             "en": "• {link} — case #{number} ({specialties}), {date} · {thread}"},
    "learning.biblio.none": {
        "fr": "Aucune référence reconnue partagée dans les fils des cas sur {days} jours.",
        "en": "No recognised reference shared in case threads over {days} days.",
    },
    "learning.fmc.sent": {
        "fr": "Votre journal ({count} lignes) vous attend en message direct chiffré.",
        "en": "Your log ({count} rows) is waiting for you in an encrypted direct message.",
    },
    "learning.fmc.no_direct": {
        "fr": "Je n’ai pas pu ouvrir de message direct chiffré avec vous : votre journal n’a "
              "pas été envoyé (ni ici ni ailleurs). Réessayez plus tard ; si cela persiste, "
              "vérifiez que votre serveur accepte les invitations du bot.",
        "en": "I could not open an encrypted direct message with you: your log was not sent "
              "(neither here nor anywhere else). Try again later; if it persists, check that "
              "your server accepts the bot's invitations.",
    },
    "learning.fmc.none": {
        "fr": "Aucun cas posté, répondu ou résolu par vous sur cette période.",
        "en": "No case posted, answered or resolved by you over this period.",
    },
    "learning.fmc.file": {
        "fr": "Journal FMC/DPC casebot — du {start} au {end}. Aucun texte clinique : dates, "
              "salons, numéros de cas, spécialités, rôles, liens et références.",
        "en": "casebot CME log — {start} to {end}. No clinical text: dates, rooms, case "
              "numbers, specialties, roles, links and references.",
    },
    "learning.csv.header": {
        "fr": "date;salon;cas;spécialité;rôle;lien;références",
        "en": "date;room;case;specialty;role;link;references",
    },
    "learning.role.posted": {"fr": "a posté", "en": "posted"},
    "learning.role.answered": {"fr": "a répondu", "en": "answered"},
    "learning.role.resolved": {"fr": "a résolu", "en": "resolved"},
    "learning.unclassified": {"fr": "non classé", "en": "unclassified"},
    "learning.thread": {"fr": "fil", "en": "thread"},
    "learning.digest.header": {
        "fr": "Bilan de la semaine du {start} au {end}",
        "en": "Weekly digest, {start} to {end}",
    },
    "learning.digest.counts": {
        "fr": "Cas ouverts : {opened} · résolus : {resolved}",
        "en": "Cases opened: {opened} · resolved: {resolved}",
    },
    "learning.digest.specialty": {"fr": "• {name} : {opened} ouverts, {resolved} résolus",
                                  "en": "• {name}: {opened} opened, {resolved} resolved"},
    "learning.digest.median": {"fr": "Délai médian de première réponse : {delay}",
                               "en": "Median time to first answer: {delay}"},
    "learning.digest.resolved": {"fr": "Résolus cette semaine :",
                                 "en": "Resolved this week:"},
    "learning.digest.case": {"fr": "• n° {number} ({specialties}) — ",
                             "en": "• #{number} ({specialties}) — "},
    "learning.digest.waiting": {"fr": "Ils attendent encore un avis :",
                                "en": "Still waiting for an answer:"},
    "learning.digest.waiting_case": {"fr": "• n° {number} ({specialties}), depuis {age} — ",
                                     "en": "• #{number} ({specialties}), for {age} — "},
    "learning.digest.refs": {"fr": "Références partagées :", "en": "References shared:"},
    "learning.digest.ref": {"fr": " — cas n° {number}", "en": " — case #{number}"},
    "learning.chart.first": {
        "fr": "Délai médian de 1re réponse ({unit})",
        "en": "Median time to first answer ({unit})",
    },
    "learning.chart.file": {"fr": "statistiques.png", "en": "statistics.png"},
    # session 5: the !stats chart, read in a thread
    "learning.chart.week": {"fr": "Cas ouverts par semaine", "en": "Cases opened per week"},
    "learning.chart.month": {"fr": "Cas ouverts par mois", "en": "Cases opened per month"},
    "learning.chart.quarter": {"fr": "Cas ouverts par trimestre",
                               "en": "Cases opened per quarter"},
    "learning.chart.year": {"fr": "Cas ouverts par an", "en": "Cases opened per year"},
    "learning.chart.quarter_label": {"fr": "T{n} {year}", "en": "Q{n} {year}"},
    "learning.chart.unit.min": {"fr": "minutes", "en": "minutes"},
    "learning.chart.unit.h": {"fr": "heures", "en": "hours"},
    "learning.chart.unit.d": {"fr": "jours", "en": "days"},
}
