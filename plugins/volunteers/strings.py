"""What the volunteers feature says, in French and English."""

STRINGS = {
    "volunteers.arg.specialty": {"fr": "spécialité", "en": "specialty"},
    "volunteers.arg.which": {"fr": "spécialité|stats", "en": "specialty|stats"},
    "volunteers.arg.until": {"fr": "durée|date", "en": "duration|date"},
    "volunteers.arg.hours": {"fr": "HH:MM-HH:MM|off", "en": "HH:MM-HH:MM|off"},
    "volunteers.arg.switch": {"fr": "on|off", "en": "on|off"},
    "volunteers.arg.tz": {"fr": "fuseau", "en": "timezone"},
    "volunteers.volunteer.summary": {
        "fr": "Vous propose comme bénévole pour être sollicité sur les nouveaux cas de ces "
              "spécialités.",
        "en": "Volunteers you to be paged for new cases of these specialties.",
    },
    "volunteers.unvolunteer.summary": {
        "fr": "Vous retire des bénévoles (de ces spécialités, ou de toutes).",
        "en": "Removes you from the volunteers (of these specialties, or all).",
    },
    "volunteers.volunteers.summary": {
        "fr": "Liste les bénévoles du salon (d’une spécialité), ou leurs statistiques.",
        "en": "Lists the room's volunteers (of one specialty), or their statistics.",
    },
    "volunteers.away.summary": {
        "fr": "Suspend vos sollicitations (pour une durée, jusqu’à une date incluse, ou "
              "jusqu’à !back).",
        "en": "Pauses your pages (for a while, through a date, or until !back).",
    },
    "volunteers.back.summary": {"fr": "Reprend vos sollicitations.",
                                "en": "Resumes your pages."},
    "volunteers.quiet.summary": {
        "fr": "Heures calmes sans sollicitation (dans votre fuseau), ou off.",
        "en": "Quiet hours without pages (in your timezone), or off.",
    },
    "volunteers.mytz.summary": {"fr": "Règle votre fuseau horaire (ex. Europe/Paris).",
                                "en": "Sets your timezone (e.g. Europe/Paris)."},
    "volunteers.urgent.summary": {
        "fr": "Accepte (on) ou non (off) d’être sollicité pour les cas urgents pendant vos "
              "heures calmes.",
        "en": "Accepts (on) or not (off) pages for urgent cases during your quiet hours.",
    },
    "volunteers.take.summary": {
        "fr": "Prend en charge le cas (dans son fil) : les sollicitations s’arrêtent.",
        "en": "Takes the case (in its thread): paging stops.",
    },
    "volunteers.not_member": {
        "fr": "Seuls les membres du salon peuvent être bénévoles.",
        "en": "Only members of the room can volunteer.",
    },
    "volunteers.unknown_specialty": {
        "fr": "Spécialité inconnue : {names}", "en": "Unknown specialty: {names}",
    },
    "volunteers.added": {
        "fr": "Vous êtes bénévole ici pour : {names}. Vous serez mentionné dans le fil des "
              "nouveaux cas (au plus {cap} par jour).",
        "en": "You volunteer here for: {names}. You will be mentioned in the thread of new "
              "cases (at most {cap} a day).",
    },
    "volunteers.removed": {"fr": "Retiré des bénévoles : {names}.",
                           "en": "Removed from the volunteers: {names}."},
    "volunteers.removed_all": {"fr": "Vous n’êtes plus bénévole dans ce salon.",
                               "en": "You no longer volunteer in this room."},
    "volunteers.not_volunteer": {"fr": "Vous n’êtes pas bénévole pour cela ici.",
                                 "en": "You do not volunteer for that here."},
    "volunteers.none": {"fr": "Aucun bénévole dans ce salon. {prefix}volunteer <spécialité>",
                        "en": "No volunteers in this room. {prefix}volunteer <specialty>"},
    "volunteers.list.header": {"fr": "Bénévoles du salon :", "en": "Volunteers of this room:"},
    "volunteers.list.line": {"fr": "{specialty} : ", "en": "{specialty}: "},
    "volunteers.stats.header": {
        "fr": "Bénévoles : sollicitations reçues, réponses, délai médian de réponse",
        "en": "Volunteers: pages received, replies, median reply time",
    },
    "volunteers.stats.line": {
        "fr": " : {pages} sollicitations, {replies} réponses, délai médian {median}",
        "en": ": {pages} pages, {replies} replies, median reply time {median}",
    },
    "volunteers.stats.na": {"fr": "—", "en": "—"},
    "volunteers.away": {"fr": "Absent : plus de sollicitation jusqu’à {prefix}back.",
                        "en": "Away: no more pages until {prefix}back."},
    "volunteers.away_for": {"fr": "Absent pour {duration} : plus de sollicitation d’ici là.",
                            "en": "Away for {duration}: no pages until then."},
    "volunteers.away_until": {
        "fr": "Absent jusqu’au {date} inclus : plus de sollicitation d’ici là.",
        "en": "Away through {date}: no pages until then.",
    },
    "volunteers.away.bad": {
        "fr": "« {value} » n’est ni une durée ni une date (ex. 4h, 3j, 15/08, 2027-08-15)",
        "en": "“{value}” is neither a duration nor a date (e.g. 4h, 3d, 15/08, 2027-08-15)",
    },
    "volunteers.away.too_far": {
        "fr": "Au plus {years} ans à l’avance ; sans date de retour, la commande seule",
        "en": "At most {years} years ahead; with no return date, the command alone",
    },
    "volunteers.away.past": {"fr": "Le {date} est déjà passé.",
                             "en": "{date} is already past."},
    "volunteers.back": {"fr": "De retour : vous pouvez de nouveau être sollicité.",
                        "en": "Back: you can be paged again."},
    "volunteers.quiet.set": {
        "fr": "Heures calmes : {start}-{end} ({tz}).", "en": "Quiet hours: {start}-{end} ({tz}).",
    },
    "volunteers.quiet.off": {"fr": "Heures calmes désactivées.",
                             "en": "Quiet hours turned off."},
    "volunteers.quiet.bad": {
        "fr": "« {value} » n’est pas une plage horaire (ex. 22:00-07:00)",
        "en": "“{value}” is not a time range (e.g. 22:00-07:00)",
    },
    "volunteers.tz.set": {"fr": "Fuseau horaire : {tz}.", "en": "Timezone: {tz}."},
    "volunteers.tz.bad": {
        "fr": "« {value} » n’est pas un fuseau horaire (ex. Europe/Paris, America/Martinique)",
        "en": "“{value}” is not a timezone (e.g. Europe/Paris, America/Martinique)",
    },
    "volunteers.urgent.on": {
        "fr": "Vous pourrez être sollicité pour les cas #{word} même pendant vos heures calmes.",
        "en": "You may be paged for #{word} cases even during your quiet hours.",
    },
    "volunteers.urgent.off": {
        "fr": "Pas de sollicitation pendant vos heures calmes, même pour les cas #{word}.",
        "en": "No pages during your quiet hours, even for #{word} cases.",
    },
    "volunteers.page": {
        "fr": "Cas #{number} ({specialties}) : {who}, un avis ? Réagissez 🙋 ou tapez "
              "{prefix}take pour le prendre en charge.",
        "en": "Case #{number} ({specialties}): {who}, can you help? React 🙋 or type "
              "{prefix}take to take it.",
    },
    "volunteers.page_urgent": {
        "fr": "Cas #{number} ({specialties}) — urgent : {who}, un avis ? Réagissez 🙋 ou "
              "tapez {prefix}take pour le prendre en charge.",
        "en": "Case #{number} ({specialties}) — urgent: {who}, can you help? React 🙋 or "
              "type {prefix}take to take it.",
    },
    "volunteers.nobody": {
        "fr": "{poster} : aucun bénévole disponible n’a répondu. Essayez une autre "
              "spécialité ({prefix}tag <spécialité>) ou relancez plus tard.",
        "en": "{poster}: no available volunteer answered. Try another specialty "
              "({prefix}tag <specialty>) or ask again later.",
    },
    "volunteers.card.awaiting": {
        "fr": "Sans confirmation, les volontaires {specialty} seront sollicités dans {delay}.",
        "en": "Without confirmation, {specialty} volunteers will be paged in {delay}.",
    },
    "volunteers.card.paged": {"fr": "Confrères sollicités : ", "en": "Colleagues paged: "},
    "volunteers.card.taken": {"fr": "Pris en charge par {who}", "en": "Taken by {who}"},
    "volunteers.take.where": {
        "fr": "Tapez {prefix}take dans le fil d’un cas ouvert.",
        "en": "Type {prefix}take in the thread of an open case.",
    },
    "volunteers.take.own": {"fr": "C’est votre propre cas.", "en": "This is your own case."},
    "volunteers.take.already": {"fr": "Cas #{number} déjà pris en charge par {who}.",
                                "en": "Case #{number} already taken by {who}."},
    "volunteers.take.done": {"fr": "Cas #{number} pris en charge par {who}. Merci !",
                             "en": "Case #{number} taken by {who}. Thank you!"},
    "volunteers.unclassified": {"fr": "non classé", "en": "unclassified"},
    "volunteers.specialty_removed": {
        "fr": " : vous n’êtes plus volontaires pour #{id} dans ce salon.",
        "en": ": you are no longer volunteers for #{id} in this room.",
    },
    "volunteers.count": {"fr": "{count} volontaire(s)", "en": "{count} volunteer(s)"},
}
