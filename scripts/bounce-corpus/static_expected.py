#!/usr/bin/env python3
"""Expected results for the files in Tests/bounce-corpus/rfc/ and handwritten/,
which are written by hand (not generated). Run after editing them."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from expected_io import merge_expected  # noqa: E402

RFC3464 = 'RFC 3464 appendix "Examples"'
RFC_NOTE = ('message/delivery-status fields as in the RFC; message headers and the human-readable '
            'part reconstructed after the RFC text, "[original message goes here]" kept')

RFC = {
    'rfc/rfc3464-simple.eml': dict(
        kind='dsn', recipients=['louisl@larry.slip.umd.edu'], format='rfc3464',
        source=RFC3464 + ' (simple DSN)', note=RFC_NOTE + '; Status 4.0.0 with Action failed'),
    'rfc/rfc3464-multi-recipient.eml': dict(
        kind='dsn', recipients=['arathib@vnet.ibm.com', 'johnh@hpnjld.njd.hp.com',
                                'wsnell@sdcc13.ucsd.edu'],
        actions={'arathib@vnet.ibm.com': 'failed', 'johnh@hpnjld.njd.hp.com': 'delayed',
                 'wsnell@sdcc13.ucsd.edu': 'failed'},
        format='rfc3464', source=RFC3464 + ' (multi-recipient DSN)',
        note=RFC_NOTE + '; one recipient delayed, two failed; folded Diagnostic-Code'),
    'rfc/rfc3464-gateway.eml': dict(
        kind='dsn', recipients=[], format='rfc3464', source=RFC3464 + ' (DSN from gatewaying)',
        note=RFC_NOTE + '; Final-Recipient is "unknown; nair_s", not an Internet address'),
    'rfc/rfc3464-delayed.eml': dict(
        kind='dsn', action='delayed', recipients=['thomas@de-montfort.ac.uk'], format='rfc3464',
        source=RFC3464 + ' (delayed DSN)', note=RFC_NOTE),
    'rfc/rfc5965-simple.eml': dict(
        kind='complaint', recipients=[], feedback_type='abuse', format='arf',
        original_message_id='8787KJKJ3K4J3K4J3K4J3.mail@example.net',
        source='RFC 5965 appendix B.1 (simple report)',
        note='no Original-Rcpt-To; the enclosed To is "<Undisclosed Recipients>"; the '
             'Message-ID has no angle brackets, as in the RFC'),
    'rfc/rfc5965-complete.eml': dict(
        kind='complaint', recipients=['user@example.com'], feedback_type='abuse', format='arf',
        original_mail_from='somespammer@example.net',
        original_message_id='8787KJKJ3K4J3K4J3K4J3.mail@example.net',
        source='RFC 5965 appendix B.2 (complete example)',
        note='recipient from Original-Rcpt-To (also Removal-Recipient)'),
}

HW = 'hand-written'
HANDWRITTEN = {
    'handwritten/arf-yahoo-cfl.eml': dict(
        kind='complaint', recipients=['reader.one@yahoo.com'], feedback_type='abuse',
        format='yahoo-cfl', source=HW,
        original_mail_from='b-aeb4kq2ps7r3m9t1vx6c8d0fgh@bounce.example.com',
        original_message_id='01K7Q8ZJ4C2M6V8X0N@relay1.example.com',
        original_queue_id='01K7Q8ZJ4C2M6V8X0N',
        note='shape of Yahoo Complaint Feedback Loop reports (ARF 0.1, User-Agent '
             'Yahoo!-Mail-Feedback/2.0, DKIM-signed original enclosed whole)'),
    'handwritten/arf-microsoft-jmrp.eml': dict(
        kind='complaint', recipients=[], feedback_type='abuse', format='microsoft-jmrp',
        source=HW, original_mail_from='b-c9m2r7t4kq8x1v5n3w6p0dz2ab@bounce.example.com',
        original_message_id='01K7Q9XW3E5G7J9K1M@relay1.example.com',
        original_queue_id='01K7Q9XW3E5G7J9K1M',
        note='shape of Microsoft JMRP reports: recipient redacted ("<redacted>" in To, '
             'X-HmXmrOriginalRecipient and the Received "for"), no Original-Rcpt-To; match by '
             'Message-ID / Hikyaku Received id / VERP Original-Mail-From'),
    'handwritten/autoreply-sieve-vacation.eml': dict(
        kind='auto_reply', recipients=[], format='rfc3834', source=HW,
        note='Sieve vacation (RFC 5230) reply: Auto-Submitted: auto-replied (vacation)'),
    'handwritten/autoreply-exchange-oof.eml': dict(
        kind='auto_reply', recipients=[], format='exchange-oof', source=HW,
        note='Exchange/Outlook "Automatic reply": Auto-Submitted: auto-generated, '
             'X-Auto-Response-Suppress: All; the body names another address'),
    'handwritten/autoreply-gmail-vacation.eml': dict(
        kind='auto_reply', recipients=[], format='rfc3834', source=HW,
        note='Gmail vacation responder: Auto-Submitted: auto-replied, Precedence: bulk, '
             'own subject, multipart/alternative'),
    'handwritten/autoreply-unix-vacation.eml': dict(
        kind='auto_reply', recipients=[], format='vacation-legacy', source=HW,
        note='classic vacation(1): only Precedence: bulk and the subject show it; no '
             'Auto-Submitted (predates RFC 3834)'),
    'handwritten/dsn-gmail-5.1.1.eml': dict(
        kind='dsn', recipients=['no.such.user@gmail.com'], format='rfc3464', source=HW,
        status='5.1.1', original_message_id='01K7QC0X2Z4B6D8F0H@relay1.example.com',
        original_queue_id='01K7QC0X2Z4B6D8F0H',
        note='shape of Gmail\'s "Address not found" DSN; carries Auto-Submitted: auto-replied '
             'although it is a DSN (report type wins); text/rfc822-headers'),
    'handwritten/dsn-o365-ndr.eml': dict(
        kind='dsn', recipients=['ex.employee@fabrikam.example'], format='rfc3464', source=HW,
        status='5.1.10', original_message_id='01K7QC6F8H0K2M4P6R@relay1.example.com',
        original_queue_id='01K7QC6F8H0K2M4P6R',
        note='shape of an Office 365 NDR: multipart/alternative notification, 5.1.10 '
             'RESOLVER.ADR.RecipientNotFound, Auto-Submitted: auto-replied'),
}


def main():
    merge_expected('rfc/', RFC)
    merge_expected('handwritten/', HANDWRITTEN)
    print(f'{len(RFC)} RFC files, {len(HANDWRITTEN)} hand-written files')


if __name__ == '__main__':
    main()
