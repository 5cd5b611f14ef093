-- pii: replaces e-mail addresses, public IP addresses and phone numbers in the text.
--
-- E-mails and IPv4 addresses as datatrove's PIIFormatter finds and replaces them; public IPv6
-- addresses and phone numbers too. The report counts what was replaced, by kind.
SELECT * REPLACE (pii_redact(${text_column}) AS ${text_column})
FROM input
