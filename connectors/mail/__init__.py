"""Email parsing: MIME and headers (parse, headers), HTML and quoted replies to text (text),
mail from robots (robots) and what bounces say (bounces). IMAP and SMTP are connectors/imap.py, smtp.py."""
