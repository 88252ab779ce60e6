"""Reads a composed message with Python's email package (policy.default, and the legacy
email.header.decode_header) and prints what a mail client would show, as JSON."""
import base64
import email
import email.header
import email.policy
import json
import sys


def main():
    with open(sys.argv[1], "rb") as source:
        raw = source.read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    legacy = email.message_from_bytes(raw)

    def legacy_decoded(name):
        value = legacy[name]
        return None if value is None else str(email.header.make_header(email.header.decode_header(value)))

    def body(subtype):
        part = message.get_body(preferencelist=(subtype,))
        return None if part is None else part.get_content().replace("\r\n", "\n")

    defects = []
    for part in message.walk():
        defects += [f"{type(defect).__name__}: {defect}" for defect in part.defects]
        for name, value in part.items():
            defects += [f"{name}: {defect}" for defect in getattr(value, "defects", ())]
    attachments = []
    for part in message.walk():
        if part.get_filename() is not None:
            attachments.append({
                "filename": part.get_filename(),
                "name": part["Content-Type"].params.get("name"),
                "contentType": part.get_content_type(),
                "disposition": part.get_content_disposition(),
                "contentID": part["Content-ID"] and str(part["Content-ID"]),
                "content": base64.b64encode(part.get_content()).decode(),
            })
    mailboxes = lambda name: [[a.display_name, a.addr_spec] for a in message[name].addresses] if message[name] else []
    print(json.dumps({
        "subject": str(message["Subject"]),
        "subjectDecodeHeader": legacy_decoded("Subject"),
        "from": mailboxes("From"),
        "fromDecodeHeader": legacy_decoded("From"),
        "to": mailboxes("To"),
        "cc": mailboxes("Cc"),
        "replyTo": mailboxes("Reply-To"),
        "messageID": str(message["Message-ID"]),
        "custom": legacy_decoded("X-Campaign"),
        "text": body("plain"),
        "html": body("html"),
        "structure": [part.get_content_type() for part in message.walk()],
        "attachments": attachments,
        "defects": defects,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
