"""The failures each MTA is made to report. `recipients` is what the bounce must name."""

R = 'remote.test'
CASES = {
    'rcpt-550-user-unknown': dict(
        send=[f'unknown-user@{R}'], recipients=[f'unknown-user@{R}'], status='5.1.1',
        what='receiver refuses RCPT with 550 5.1.1'),
    'data-552-mailbox-full': dict(
        send=[f'full-mailbox@{R}'], recipients=[f'full-mailbox@{R}'], status='5.2.2',
        what='receiver answers the end of DATA with 552 5.2.2 mailbox full'),
    'data-554-spam-block': dict(
        send=[f'spam-check@{R}'], recipients=[f'spam-check@{R}'], status='5.7.1',
        what='receiver answers the end of DATA with 554 5.7.1 (content block)'),
    'unknown-domain': dict(
        send=['someone@nxdomain.invalid'], recipients=['someone@nxdomain.invalid'],
        what='recipient domain has no MX/A record'),
    'expired-4xx': dict(
        send=[f'tempfail-user@{R}'], recipients=[f'tempfail-user@{R}'],
        what='receiver answers RCPT 451 4.3.0 until the queue lifetime (set to ~0) ends'),
    'multi-recipient': dict(
        send=[f'unknown-a@{R}', f'unknown-b@{R}', f'accepted@{R}', 'other@nxdomain.invalid'],
        recipients=[f'unknown-a@{R}', f'unknown-b@{R}', 'other@nxdomain.invalid'],
        what='one message, four recipients: two refused (550), one unknown domain, one '
             'accepted; one bounce naming the three failures'),
    'delay-warning': dict(
        send=[f'slow-user@{R}'], recipients=[f'slow-user@{R}'], action='delayed',
        what='receiver answers RCPT 451 4.7.1; the MTA sends a delay warning (message then removed)'),
}
