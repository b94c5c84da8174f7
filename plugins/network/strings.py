"""What the network feature says, in French and English. Never a text's value: kinds only."""

STRINGS = {
    "network.arg.room": {"fr": "salon", "en": "room"},
    "network.share.summary": {
        "fr": "Partage votre cas (dans son fil) avec le salon élargi lié à ce salon ; les "
              "réponses reviennent ici.",
        "en": "Shares your case (in its thread) with the wider room linked to this room; the "
              "answers come back here.",
    },
    "network.unshare.summary": {
        "fr": "Retire la copie de votre cas du salon élargi (dans son fil).",
        "en": "Withdraws the copy of your case from the wider room (in its thread).",
    },
    "network.share.word": {"fr": "partager", "en": "share"},
    "network.unshare.word": {"fr": "retirer", "en": "unshare"},
    "network.a_room": {"fr": "un salon sans nom", "en": "an unnamed room"},
    "network.in_thread": {
        "fr": "Tapez {prefix}{command} dans le fil de votre cas.",
        "en": "Type {prefix}{command} in your case's thread.",
    },
    "network.poster_only": {
        "fr": "Seule la personne qui a posté ce cas ({poster}) peut le partager ou le retirer.",
        "en": "Only the member who posted this case ({poster}) may share or withdraw it.",
    },
    "network.not_shared": {"fr": "Ce cas n’est partagé nulle part.",
                           "en": "This case is not shared anywhere."},
    "network.refused.no_link": {
        "fr": "Ce salon n’est lié à aucun salon élargi. Un admin : {prefix}config set "
              "network.relay_to <salon>.",
        "en": "This room is linked to no wider room. An admin: {prefix}config set "
              "network.relay_to <room>.",
    },
    "network.refused.not_linked": {
        "fr": "Ce salon n’est pas lié à ce salon-là. Salons liés : {names}.",
        "en": "This room is not linked to that room. Linked rooms: {names}.",
    },
    "network.refused.which": {
        "fr": "Plusieurs salons élargis sont liés : {names}. Tapez {prefix}partager <salon>.",
        "en": "Several wider rooms are linked: {names}. Type {prefix}share <room>.",
    },
    "network.refused.not_open": {"fr": "Le cas #{number} n’est plus ouvert.",
                                 "en": "Case #{number} is no longer open."},
    "network.refused.relayed": {
        "fr": "Ce cas a été relayé depuis un autre salon : il n’est pas relayé à nouveau.",
        "en": "This case was relayed from another room: it is not relayed again.",
    },
    "network.refused.already": {"fr": "Ce cas est déjà partagé dans « {room} ».",
                                "en": "This case is already shared in “{room}”."},
    "network.refused.not_joined": {
        "fr": "Je ne suis pas dans « {room} » : invitez-moi dans ce salon pour y partager.",
        "en": "I am not in “{room}”: invite me there to share cases with it.",
    },
    "network.refused.unencrypted": {
        "fr": "Partage refusé : les deux salons doivent être chiffrés de bout en bout.",
        "en": "Not shared: both rooms must be end-to-end encrypted.",
    },
    "network.refused.unverified": {
        "fr": "Partage refusé : ce salon n’admet que des médecins vérifiés "
              "(trust.policy verified) et « {room} » non.",
        "en": "Not shared: this room admits verified physicians only (trust.policy verified) "
              "and “{room}” does not.",
    },
    "network.refused.no_power": {
        "fr": "Partage refusé : je n’ai pas le droit d’écrire dans « {room} ».",
        "en": "Not shared: I may not post in “{room}”.",
    },
    "network.refused.paused": {
        "fr": "Partage refusé : « {room} » n’accepte plus de cas pour le moment.",
        "en": "Not shared: “{room}” accepts no cases for now.",
    },
    "network.refused.not_accepted": {
        "fr": "Partage refusé : « {room} » n’a pas (encore) accepté les cas de ce salon. J’ai "
              "posé la question à ses admins.",
        "en": "Not shared: “{room}” has not accepted this room's cases (yet). I asked its "
              "admins.",
    },
    "network.refused.limit": {
        "fr": "Partage refusé : au plus {cap} partage(s) par personne et par 24 heures.",
        "en": "Not shared: at most {cap} share(s) per member in 24 hours.",
    },
    "network.refused.unreadable": {
        "fr": "Partage impossible : je ne peux pas lire le message de ce cas (supprimé, ou sa "
              "clé de chiffrement ne m’a pas été transmise).",
        "en": "Not shared: I cannot read this case's message (deleted, or its encryption key "
              "never reached me).",
    },
    "network.refused.secrecy": {
        "fr": "Partage refusé : le cas contient {kinds}. Modifiez le message pour anonymiser, "
              "puis {prefix}partager à nouveau.",
        "en": "Not shared: the case holds {kinds}. Edit the message to anonymize it, then "
              "{prefix}share again.",
    },
    "network.refused.failed": {
        "fr": "Partage impossible dans « {room} » (j’en ai été retiré, ou je n’y ai pas le "
              "droit d’écrire) : rien n’y a été posté.",
        "en": "Could not share in “{room}” (I was removed, or may not post there): nothing "
              "was posted.",
    },
    "network.refused.there": {
        "fr": "« {room} » a refusé le cas ; rien n’y reste :",
        "en": "“{room}” refused the case; nothing is left there:",
    },
    "network.shared": {
        "fr": "Cas partagé dans « {room} » : {link}. Les réponses y seront copiées ici, avec "
              "le nom de leur auteur.",
        "en": "Case shared in “{room}”: {link}. Its answers will be copied here, with their "
              "authors' names.",
    },
    "network.open_there": {"fr": "ouvrir", "en": "open"},
    "network.withdrawn": {
        "fr": "La copie de ce cas a été retirée de « {room} ».",
        "en": "This case's copy was withdrawn from “{room}”.",
    },
    "network.edit_held": {
        "fr": "{poster} : la modification contient {kinds} ; la copie partagée n’est pas mise "
              "à jour tant que le message n’est pas anonymisé.",
        "en": "{poster}: the edit holds {kinds}; the shared copy is not updated until the "
              "message is anonymized.",
    },
    "network.offer": {
        "fr": "{poster}, pas de réponse depuis {delay}. Ce cas peut être partagé dans "
              "{places} : {how}",
        "en": "{poster}, no answer for {delay}. This case could be shared in {places}: {how}",
    },
    "network.offer.place": {"fr": "« {room} » (membres : {members})",
                            "en": "“{room}” (members: {members})"},
    "network.offer.how_one": {
        "fr": "réagissez 🔁 à ce message ou tapez {prefix}partager. Rien n’est partagé sans "
              "vous.",
        "en": "react 🔁 to this message or type {prefix}share. Nothing is shared without you.",
    },
    "network.offer.how_many": {
        "fr": "réagissez 🔁 (le premier salon) ou tapez {prefix}partager <salon>. Rien n’est "
              "partagé sans vous.",
        "en": "react 🔁 (the first room) or type {prefix}share <room>. Nothing is shared "
              "without you.",
    },
    "network.copy.head": {
        "fr": "🔁 Cas relayé depuis « {room} » par {poster}",
        "en": "🔁 Case relayed from “{room}” by {poster}",
    },
    "network.copy.answers": {
        "fr": "Vos réponses dans ce fil seront montrées, avec le nom de leur auteur, dans "
              "« {room} ».",
        "en": "Your answers in this thread will be shown, with their authors' names, in "
              "“{room}”.",
    },
    "network.mirror": {"fr": "{who} ({room}) : ", "en": "{who} ({room}): "},
    "network.card.shared": {"fr": "🔁 Partagé dans « {room} » · {link}",
                            "en": "🔁 Shared in “{room}” · {link}"},
    "network.card.relayed": {
        "fr": "🔁 Relayé depuis « {room} » (réponses montrées là-bas) · {link}",
        "en": "🔁 Relayed from “{room}” (answers shown there) · {link}",
    },
    "network.card.link": {"fr": "l’autre fil", "en": "the other thread"},
    "network.request": {
        "fr": "Le salon « {room} » souhaite pouvoir partager ici ses cas restés sans réponse "
              "(chaque partage est décidé par l’auteur du cas ; vos réponses lui seront "
              "montrées avec votre nom). Un admin de ce salon : réagissez ✅ pour accepter, ou "
              "{prefix}config set network.accept_from {room_id}.",
        "en": "The room “{room}” wishes to share its unanswered cases here (each share is "
              "its poster's choice; your answers will be shown there with your name). An admin "
              "of this room: react ✅ to accept, or {prefix}config set network.accept_from "
              "{room_id}.",
    },
    "network.request.accepted": {
        "fr": "{who} a accepté les cas partagés depuis « {room} ».",
        "en": "{who} accepted the cases shared from “{room}”.",
    },
    "network.stats": {
        "fr": "Cercle élargi : {shared} cas partagés, {answers} réponses venues d’autres "
              "salons, {resolved} cas résolus après elles ; {received} cas reçus d’autres "
              "salons.",
        "en": "Wider circle: {shared} cases shared, {answers} answers from other rooms, "
              "{resolved} cases resolved after them; {received} cases received from other "
              "rooms.",
    },
    "network.photo": {"fr": "{who} ({room}) : photo", "en": "{who} ({room}): photo"},
}
