"""Serves exported tests with wptserve (PyPI) for `pmconf export wpt --verify`.

WPT's own server configuration (tools/serve): browser_host web-platform.test,
the alternate host not-web-platform.test, the subdomains www, www1, www2,
élève and 天気の良い日, ports http 8000/8001 and https 8443/8444. Those ports
are the ones substitutions write ({{ports[http][0]}}); the browsers reach
them through pmconf's proxy, which hands every request for a WPT host to
this one listener on 127.0.0.1 (TLS ends in the proxy). It binds loopback
only, on a free port, written to PORT_FILE once it listens.

usage: python serve_wpt.py DOC_ROOT PORT_FILE
"""
import logging
import os
import sys

from wptserve import server
from wptserve.config import Config, ConfigBuilder


def wpt_config(doc_root):
    builder = ConfigBuilder(
        logging.getLogger("wptserve"),
        subdomains={"www", "www1", "www2", "élève", "天気の良い日"},
        not_subdomains={"nonexistent"},
        browser_host="web-platform.test",
        alternate_hosts={"alt": "not-web-platform.test"},
        doc_root=doc_root,
        ports={"http": [8000, 8001]},
    )
    with builder as config:
        data = config.as_dict()
    # wptserve keeps https ports only with TLS of its own; here TLS ends
    # in pmconf's proxy, so the https ports are declared as WPT's are.
    data["ports"] = {"http": [8000, 8001], "https": [8443, 8444]}
    return Config(data)


def main():
    doc_root, port_file = sys.argv[1], sys.argv[2]
    logging.basicConfig(level=logging.WARNING)
    config = wpt_config(doc_root)
    httpd = server.WebTestHttpd(host="127.0.0.1", port=0, doc_root=doc_root,
                                config=config)
    httpd.start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(httpd.port))
    os.replace(tmp, port_file)
    httpd.server_thread.join()


if __name__ == "__main__":
    main()
