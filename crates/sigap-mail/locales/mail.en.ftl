# The mail Sigap sends: the words around what a notification says, and the automatic
# replies to mail taken in.

mail-greeting = Hello { $name },
mail-open = Open it in Sigap
mail-footer-task = Reply to this mail to write to { $number }; keep the number in the subject.
mail-footer = This mail was sent by Sigap.
mail-preferences = Which mail you get is yours to choose: { $link }
mail-acknowledge-subject = Received: { $title }
mail-acknowledge = We received your message and recorded it as { $number }. The service desk will answer you by mail; to add something, reply to this mail.
mail-unknown-sender-subject = Your message was not taken in: { $title }
mail-unknown-sender = The service desk takes messages only from addresses it knows. Please use the portal, or ask the service desk to add your address.
mail-resolved-refused-subject = { $number } is resolved: { $title }
mail-resolved-refused = { $number } is resolved, and a reply by mail does not open it again. If the problem is back, please write a new message without the number in the subject.
