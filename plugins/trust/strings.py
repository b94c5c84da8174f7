"""What the trust feature says, in French and English."""

STRINGS = {
    "trust.arg.rpps": {"fr": "RPPS", "en": "RPPS"},
    "trust.arg.user": {"fr": "@membre", "en": "@member"},
    "trust.arg.reason": {"fr": "raison", "en": "reason"},
    "trust.verify.summary": {
        "fr": "Demande la vérification de votre numéro RPPS (sans numéro : où vous en êtes).",
        "en": "Asks for your RPPS number to be verified (without a number: where you stand).",
    },
    "trust.approve.summary": {"fr": "Modérateurs : confirme la vérification d’un membre.",
                              "en": "Moderators: confirms a member's verification."},
    "trust.refuse.summary": {"fr": "Modérateurs : refuse la vérification d’un membre.",
                             "en": "Moderators: refuses a member's verification."},
    "trust.forget.summary": {"fr": "Efface votre vérification (numéro RPPS compris).",
                             "en": "Erases your verification (RPPS number included)."},
    "trust.admit.summary": {"fr": "Invite un membre qui a frappé à la porte du salon.",
                            "en": "Invites someone who knocked on the room."},
    "trust.report.summary": {
        "fr": "Signale en privé aux modérateurs le message auquel vous répondez (ou le fil, ou "
              "le lien d’un message).",
        "en": "Reports privately to the moderators the message you reply to (or the thread, "
              "or a message's link).",
    },
    # ---- verification ----
    "trust.rpps.shape": {
        "fr": "Un numéro RPPS a 11 chiffres : {prefix}verify 10001234567",
        "en": "An RPPS number has 11 digits: {prefix}verify 10001234567",
    },
    "trust.rpps.key": {
        "fr": "Ce numéro RPPS n’est pas valide (sa clé ne correspond pas) : vérifiez-le.",
        "en": "This RPPS number is not valid (its check digit does not match): check it.",
    },
    "trust.status.none": {
        "fr": "Vous n’êtes pas vérifié. {prefix}verify <RPPS> envoie votre demande aux "
              "modérateurs.",
        "en": "You are not verified. {prefix}verify <RPPS> sends your request to the "
              "moderators.",
    },
    "trust.status.pending": {"fr": "Votre demande de vérification attend un modérateur.",
                             "en": "Your verification request awaits a moderator."},
    "trust.status.pending_again": {
        "fr": "Votre demande attend déjà un modérateur ({prefix}verify forget pour la retirer).",
        "en": "Your request already awaits a moderator ({prefix}verify forget withdraws it).",
    },
    "trust.moderation_room.unusable": {
        "fr": "⚠ La salle de modération configurée (trust.moderation_room) n’est pas utilisable "
              ": elle doit être chiffrée et le bot doit y être.",
        "en": "⚠ The configured moderation room (trust.moderation_room) cannot be used: it "
              "must be encrypted and the bot must be in it.",
    },
    "trust.status.verified": {"fr": "✔ Vous êtes vérifié.", "en": "✔ You are verified."},
    "trust.status.refused": {
        "fr": "Votre dernière demande a été refusée ; vous pouvez en refaire une.",
        "en": "Your last request was refused; you may ask again.",
    },
    "trust.status.server": {
        "fr": "✔ Votre serveur vérifie déjà les comptes de ses membres : rien à faire.",
        "en": "✔ Your server already verifies its members' accounts: nothing to do.",
    },
    "trust.already": {"fr": "✔ Vous êtes déjà vérifié.", "en": "✔ You are already verified."},
    "trust.not_found": {
        "fr": "Ce numéro n’est pas celui d’un médecin dans l’annuaire importé ({count} "
              "médecins). S’il est récent, un modérateur peut l’ajouter à la prochaine "
              "importation.",
        "en": "This number is not a physician's in the imported directory ({count} "
              "physicians). If it is recent, it will be there after the next import.",
    },
    "trust.taken": {
        "fr": "Ce numéro RPPS est déjà lié à un autre compte : parlez-en aux modérateurs.",
        "en": "This RPPS number is already linked to another account: talk to the "
              "moderators.",
    },
    "trust.requested": {
        "fr": "Demande envoyée aux modérateurs ; vous serez prévenu ici.",
        "en": "Request sent to the moderators; you will be told here.",
    },
    "trust.request.title": {"fr": "Demande de vérification de {who}",
                            "en": "Verification request from {who}"},
    "trust.request.found": {"fr": "Annuaire : {entry}", "en": "Directory: {entry}"},
    "trust.request.match": {"fr": "Le nom affiché correspond à l’annuaire.",
                            "en": "The display name matches the directory."},
    "trust.request.mismatch": {
        "fr": "⚠ Le nom affiché ne correspond pas à l’annuaire.",
        "en": "⚠ The display name does not match the directory.",
    },
    "trust.request.how": {
        "fr": "Un modérateur confirme avec ✅ sur ce message ou {prefix}verify approve {user}, "
              "refuse avec ❌ ou {prefix}verify refuse {user}.",
        "en": "A moderator confirms with ✅ on this message or {prefix}verify approve {user}, "
              "refuses with ❌ or {prefix}verify refuse {user}.",
    },
    "trust.request.for": {"fr": "Pour les modérateurs : ", "en": "For the moderators: "},
    "trust.request.room": {"fr": "Salon : {room}", "en": "Room: {room}"},
    "trust.approved": {"fr": "✔ {who} est vérifié (par {by}).",
                       "en": "✔ {who} is verified (by {by})."},
    "trust.refused": {"fr": "{who} n’est pas vérifié (refusé par {by}).",
                      "en": "{who} is not verified (refused by {by})."},
    "trust.no_request": {"fr": "Aucune demande en attente de ce membre.",
                         "en": "No pending request from this member."},
    "trust.not_moderator": {
        "fr": "Seuls les modérateurs du salon de la demande peuvent en décider.",
        "en": "Only the moderators of the request's room can decide on it.",
    },
    "trust.approver_unverified": {
        "fr": "Seul un modérateur lui-même vérifié (ou un administrateur du bot) peut valider "
              "une vérification : faites d’abord vérifier votre numéro RPPS ({prefix}verify "
              "<RPPS>). Refuser reste possible.",
        "en": "Only a moderator who is verified (or a bot admin) can approve a verification: "
              "have your own RPPS number verified first ({prefix}verify <RPPS>). Refusing "
              "remains possible.",
    },
    "trust.not_yourself": {
        "fr": "Un autre modérateur doit décider de votre propre demande.",
        "en": "Another moderator must decide on your own request.",
    },
    "trust.forgotten": {"fr": "Votre vérification est effacée.",
                        "en": "Your verification is erased."},
    "trust.nothing_to_forget": {"fr": "Aucune vérification à effacer.",
                                "en": "No verification to erase."},
    "trust.entry": {"fr": "{last} {first} — {profession}", "en": "{last} {first} — {profession}"},
    # ---- policy ----
    "trust.case_refused": {
        "fr": "Dans ce salon, seuls les médecins vérifiés ouvrent des cas. Faites vérifier "
              "votre numéro RPPS : {prefix}verify <RPPS> (un modérateur confirme).",
        "en": "In this room only verified physicians open cases. Have your RPPS number "
              "verified: {prefix}verify <RPPS> (a moderator confirms).",
    },
    "trust.card.verified": {"fr": "✔ (vérifié, annuaire RPPS)",
                            "en": "✔ (verified, RPPS directory)"},
    # ---- knocks ----
    "trust.knock.title": {"fr": "🚪 {who} demande à entrer ({user}).",
                          "en": "🚪 {who} asks to come in ({user})."},
    "trust.knock.reason": {"fr": "Message : {reason}", "en": "Message: {reason}"},
    "trust.knock.match": {"fr": "Annuaire : {entries}", "en": "Directory: {entries}"},
    "trust.knock.more": {"fr": " (et {count} autres homonymes)",
                         "en": " (and {count} more with that name)"},
    "trust.knock.none": {"fr": "Annuaire : aucun médecin à ce nom.",
                         "en": "Directory: no physician with that name."},
    "trust.knock.how": {"fr": "{prefix}admit {user} pour l’inviter.",
                        "en": "{prefix}admit {user} to invite them."},
    "trust.admitted": {"fr": "{user} est invité.", "en": "{user} is invited."},
    "trust.admit.no_power": {
        "fr": "Je ne peux pas inviter ici : il me faut le niveau de pouvoir {level} "
              "(« inviter des membres »).",
        "en": "I cannot invite here: I need power level {level} (\"invite users\").",
    },
    "trust.admit.failed": {"fr": "Le serveur a refusé l’invitation de {user}.",
                           "en": "The server refused to invite {user}."},
    # ---- reports ----
    "trust.report.where": {
        "fr": "Répondez au message à signaler (ou écrivez dans son fil) : {prefix}report "
              "[raison]. Plus discret, ici dans notre salon direct : {prefix}report <lien du "
              "message> [raison].",
        "en": "Reply to the message you report (or write in its thread): {prefix}report "
              "[reason]. More discreet, here in our direct room: {prefix}report <link to the "
              "message> [reason].",
    },
    "trust.report.twice": {"fr": "Vous avez déjà signalé ce message ; merci.",
                           "en": "You already reported this message; thank you."},
    "trust.report.done": {
        "fr": "Merci : les modérateurs de {room} sont prévenus en privé (le message n’est pas "
              "recopié, son auteur ne voit ni votre nom ni la raison).",
        "en": "Thank you: the moderators of {room} are told privately (the message is not "
              "copied; its author sees neither your name nor the reason).",
    },
    "trust.moderators.root": {"fr": "🛡 Pour les modérateurs (détails dans le fil).",
                              "en": "🛡 For the moderators (details in the thread)."},
    "trust.report.title": {"fr": "🚩 Signalement de {who}", "en": "🚩 Report by {who}"},
    "trust.report.event": {"fr": "Message signalé : {link}", "en": "Reported message: {link}"},
    "trust.report.link": {"fr": "ouvrir", "en": "open"},
    "trust.report.reason": {"fr": "Raison : {reason}", "en": "Reason: {reason}"},
    "trust.report.no_reason": {"fr": "Raison : (aucune)", "en": "Reason: (none given)"},
    "trust.no_moderator": {"fr": "(aucun modérateur dans ce salon)",
                           "en": "(no moderator in this room)"},
    # ---- charter and figures ----
    "trust.charter": {
        "fr": "Charte de conduite : courtoisie entre confrères ; désaccords argumentés sur les "
              "preuves ; aucune attaque personnelle ; aucune capture d’écran hors du salon.",
        "en": "Code of conduct: courtesy between colleagues; disagreements argued on evidence; "
              "no personal attacks; no screenshots outside the room.",
    },
    "trust.stats": {
        "fr": "Confiance : {verified} membres vérifiés, {reports} signalements ({events} "
              "messages)",
        "en": "Trust: {verified} verified members, {reports} reports ({events} messages)",
    },
    # session 5: reports reach the moderators privately, knocks are throttled
    "trust.report.author": {"fr": "Auteur du message : {who}", "en": "Message author: {who}"},
    "trust.report.room": {"fr": "Salon : {room}", "en": "Room: {room}"},
    "trust.report.not_found": {
        "fr": "Je ne trouve pas ce message dans ce salon : rien n’est signalé.",
        "en": "I cannot find that message in that room: nothing is reported.",
    },
    "trust.report.throttled": {
        "fr": "Vous avez déjà fait {count} signalements dans l’heure : réessayez plus tard.",
        "en": "You already made {count} reports within the hour: try again later.",
    },
    "trust.report.nobody": {
        "fr": "Ce salon n’a aucun autre modérateur à prévenir : rien n’est signalé.",
        "en": "This room has no other moderator to tell: nothing is reported.",
    },
    "trust.report.not_hidden": {
        "fr": "Je n’ai pas pu effacer votre commande du salon (il me faut le droit de "
              "supprimer les messages des autres) : effacez-la vous-même, elle montre à tous "
              "qui vous signalez et pourquoi.",
        "en": "I could not delete your command from the room (I need the power to remove "
              "others' messages): delete it yourself, it shows everyone whom you report "
              "and why.",
    },
    "trust.knock.flood": {
        "fr": "🚪 Beaucoup de demandes d’entrée : les suivantes ne sont plus annoncées "
              "pendant une heure (la liste des membres du salon les montre).",
        "en": "🚪 Many requests to come in: the next ones are not announced for an hour "
              "(the room's member list shows them).",
    },
    # session 5: who may confirm a verification (issue 25, item 1)
    "trust.rule.room": {
        "fr": "Une vérification vaut dans tous les salons : seul un administrateur du bot la "
              "confirme, ou un modérateur vérifié d’un salon de vérification désigné par "
              "l’exploitant (trust.verification_rooms). Ce salon n’en est pas un ; refuser "
              "reste possible.",
        "en": "A verification counts in every room: only a bot admin confirms it, or a "
              "verified moderator of a verification room the operator lists "
              "(trust.verification_rooms). This room is not one; refusing remains possible.",
    },
    "trust.rule.name": {
        "fr": "Le nom affiché ne correspond pas à l’annuaire : seul un administrateur du bot "
              "peut confirmer cette vérification ; refuser reste possible.",
        "en": "The display name does not match the directory: only a bot admin can confirm "
              "this verification; refusing remains possible.",
    },
    "trust.rule.nobody": {
        "fr": "Ici, personne ne peut confirmer une vérification (elle vaut dans tous les "
              "salons) : demandez-la dans un salon de vérification, sous un nom affiché "
              "identique à celui de l’annuaire, ou à l’exploitant du bot.",
        "en": "Nobody here can confirm a verification (it counts in every room): ask in a "
              "verification room, with the directory's name as your display name, or ask "
              "the bot's operator.",
    },
    "trust.request.admins_told": {
        "fr": "Les administrateurs du bot sont prévenus en message direct.",
        "en": "The bot admins are told in a direct message.",
    },
    "trust.request.admins_unreachable": {
        "fr": "Aucun administrateur du bot n’est joignable en message direct.",
        "en": "No bot admin can be reached in a direct message.",
    },
    "trust.request.how_admins": {
        "fr": "Un administrateur du bot confirme avec ✅ sur ce message ou {prefix}verify "
              "approve {user} ; un modérateur refuse avec ❌ ou {prefix}verify refuse {user}.",
        "en": "A bot admin confirms with ✅ on this message or {prefix}verify approve {user}; "
              "a moderator refuses with ❌ or {prefix}verify refuse {user}.",
    },
    "trust.request.how_direct": {
        "fr": "{prefix}verify approve {user} confirme (ici ou dans le salon), {prefix}verify "
              "refuse {user} refuse.",
        "en": "{prefix}verify approve {user} confirms (here or in the room), {prefix}verify "
              "refuse {user} refuses.",
    },
    "trust.requested.admins": {
        "fr": "Demande envoyée : ici, seul un administrateur du bot peut la confirmer ; vous "
              "serez prévenu ici.",
        "en": "Request sent: here only a bot admin can confirm it; you will be told here.",
    },
    "trust.taken.contested": {
        "fr": "Ce numéro RPPS est déjà lié à un autre compte. Votre nom affiché correspond à "
              "l’annuaire : les administrateurs du bot sont prévenus et vont vérifier.",
        "en": "This RPPS number is already linked to another account. Your display name "
              "matches the directory: the bot admins are told and will check.",
    },
    "trust.contest.match": {
        "fr": "⚠ Ce numéro est déjà lié à {holder}, dont le nom affiché correspond aussi à "
              "l’annuaire. Pour le lui retirer : {prefix}verify revoke {holder_id}, puis "
              "{prefix}verify approve {user}.",
        "en": "⚠ This number is already linked to {holder}, whose display name matches the "
              "directory too. To withdraw it: {prefix}verify revoke {holder_id}, then "
              "{prefix}verify approve {user}.",
    },
    "trust.contest.mismatch": {
        "fr": "⚠ Ce numéro est déjà lié à {holder}, dont le nom affiché ne correspond pas à "
              "l’annuaire. Pour le lui retirer : {prefix}verify revoke {holder_id}, puis "
              "{prefix}verify approve {user}.",
        "en": "⚠ This number is already linked to {holder}, whose display name does not "
              "match the directory. To withdraw it: {prefix}verify revoke {holder_id}, then "
              "{prefix}verify approve {user}.",
    },
    "trust.revoke.summary": {
        "fr": "Administrateurs du bot : retire la vérification d’un membre.",
        "en": "Bot admins: withdraws a member's verification.",
    },
    "trust.revoke.refused": {
        "fr": "Seul un administrateur du bot retire une vérification.",
        "en": "Only a bot admin withdraws a verification.",
    },
    "trust.revoke.none": {"fr": "Ce membre n’est pas vérifié.",
                          "en": "This member is not verified."},
    "trust.revoked": {"fr": "La vérification de {who} est retirée.",
                      "en": "{who}'s verification is withdrawn."},
}
