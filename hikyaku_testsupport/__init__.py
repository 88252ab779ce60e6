"""Hikyaku's Python test support: one package for the integration tests
(Tests/integration), the load-test runner (load-tests/) and the cluster tool (cluster/).

Each module has one job:

* ``waiting``    -- ``wait_for``: poll until true, with the reason on timeout
* ``ports``      -- free ports, "does this port accept connections"
* ``procfs``     -- CPU and memory of processes and of the machine, from /proc
* ``processes``  -- ``ManagedProcess``: a child with its log, a clean stop, CPU/RSS accounting
* ``binaries``   -- where the hikyaku, hikyaku-load and hikyaku-sim binaries are
* ``certs``      -- throwaway CAs and certificates (openssl)
* ``dns``        -- a one-question DNS client and ``Dnsmasq`` serving given records
* ``resp``       -- a minimal Redis client (RESP2; TLS and AUTH optional), stream reading
* ``redis_servers`` -- ``redis-server`` processes: durable (AOF), replica, TLS with ACL users
* ``postgres``   -- a throwaway PostgreSQL server (Debian's, run as the postgres user)
* ``relay``      -- relay configuration files (JSON is YAML), ``hikyaku serve`` processes
* ``events``     -- the relay's events: ``hikyaku events tail`` and the ``hk:events`` stream
* ``receiver``   -- the recording SMTP receiver (``smtp_receiver.py``) as a process
* ``smtp``       -- messages, header parsing, a raw SMTP client for malformed input
* ``records``    -- the simulator's and the generator's record files (JSON Lines)
* ``machine``    -- what machine a figure was measured on
* ``console``    -- the load tools' live progress line
* ``analysis``   -- loss accounting, latency and throughput of a load run
* ``world``      -- the integration tests' fixed names: test domains, MX hosts, credentials
* ``notes``      -- notes repeated in pytest's terminal summary

Installed editable by scripts/install-deps.sh (``pip install --editable=<clone>``);
Tests/integration/pytest.ini also puts the clone on pytest's path.
"""
