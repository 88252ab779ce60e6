"""The Hikyaku load-test runner (issue 4): starts Redis, dnsmasq, the receiving-site
simulator, the relay (or Postfix as the peer) and the load generator on loopback, follows
the run, injects faults, and writes the report. Entry point: ``load-tests/run.py``."""
