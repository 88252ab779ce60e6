"""The integration tests' fixed world: the test domains in dnsmasq, their MX hosts (all
127.0.0.1, where the receiver listens) and the submission credentials."""

from __future__ import annotations

MX_DOMAINS = ["example.test", "k1.test", "k2.test", "k3.test", "k4.test", "k5.test"]
# Destinations of the delivery-engine tests (test_engine.py): domain -> MX host. Domains
# sharing an MX host belong to one receiving site (MX rollup); each MX host resolves to
# 127.0.0.1, where the receiver listens.
ENGINE_MX = {
    **{f"lim{i}.test": "mx.limited.test" for i in range(1, 7)},         # site "limited"
    "capped.test": "mx.capped.test",                                    # site "capped"
    "single.test": "mx.single.test",                                    # site "single"
    "fast.test": "mx.fast.test", "fast2.test": "mx.fast2.test",         # unconfigured: mx:fast.test, ...
    "tempfail.test": "mx.tempfail.test",                                # receiver: 421 to every RCPT
    **{f"throttle{i}.test": "mx.throttle.test" for i in range(1, 13)},  # receiver: 421 "slow down" first N per IP
    "slow.test": "mx.slow.test",                                        # receiver: slow end of DATA
    **{f"spread{i}.test": f"mx.spread{i}.test" for i in range(1, 7)},
}
# Campaign destinations (test_campaigns.py): one MX host per receiving site, whose limits
# the test's delivery.sites set (docomo-, au-, softbank- and gmail-like, scaled to seconds).
CAMPAIGN_MX = {"docomo.test": "mx.docomo.test", "au.test": "mx.au.test", "softbank.test": "mx.softbank.test",
               "gmail.test": "mx.gmail.test"}
# A return-path domain (VERP) whose MX is the bounce listener (test_bounces.py): MX host
# mx.bounces.example.test -> 127.0.0.1, where the listener has its own port.
RETURN_PATH_DOMAIN = "bounces.example.test"
# Not in DNS: delivered via delivery.routes.
STATIC_DOMAIN = "static.test"
AUTH_USER = "app"
AUTH_PASSWORD = "secret"


def mx_records() -> list[str]:
    """dnsmasq options for every test domain's MX and each MX host's A record (127.0.0.1)."""
    mx_of = {domain: "mx.example.test" if domain == "example.test" else f"mx.{domain}" for domain in MX_DOMAINS}
    mx_of.update(ENGINE_MX)
    mx_of.update(CAMPAIGN_MX)
    mx_of[RETURN_PATH_DOMAIN] = f"mx.{RETURN_PATH_DOMAIN}"
    options = [f"--mx-host={domain},{mx_host},10" for domain, mx_host in mx_of.items()]
    options += [f"--host-record={mx_host},127.0.0.1" for mx_host in sorted(set(mx_of.values()))]
    return options
