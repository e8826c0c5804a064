"""A throwaway test CA and leaf certificates, made with the `openssl` CLI (scripts/install-tools.sh installs it).

    ca = TestCA(directory)                     # ca.cert, ca.key
    leaf = ca.issue("backend-a", ["backend-a.test"])   # leaf.cert, leaf.key (PEM paths)
    bundle = ca.bundle()                        # system CA bundle + test CA, for Envoy's trusted_ca
"""
import os
import shutil
import subprocess
from dataclasses import dataclass

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def openssl_binary():
    return shutil.which("openssl")


def _run(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@dataclass
class Leaf:
    name: str
    dns_names: list
    cert: str
    key: str


class TestCA:
    __test__ = False

    def __init__(self, directory, name="Apoxy Test CA"):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.cert = os.path.join(directory, "ca.crt")
        self.key = os.path.join(directory, "ca.key")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def issue(self, name, dns_names, ip_addresses=(), client=False):
        """A leaf certificate for `name` with the given DNS (and IP) SANs, signed by this CA; with `client`, a client
        certificate (extendedKeyUsage clientAuth, CN `name`, no SANs needed)."""
        key = os.path.join(self.directory, f"{name}.key")
        csr = os.path.join(self.directory, f"{name}.csr")
        cert = os.path.join(self.directory, f"{name}.crt")
        ext = os.path.join(self.directory, f"{name}.ext")
        sans = [f"DNS:{d}" for d in dns_names] + [f"IP:{i}" for i in ip_addresses]
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
            if sans:
                f.write(f"subjectAltName={','.join(sans)}\n")
        common_name = name if client or not dns_names else dns_names[0]
        _run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-out", csr, "-subj", f"/CN={common_name}")
        _run("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
             "-out", cert, "-days", "2", "-extfile", ext)
        return Leaf(name=name, dns_names=list(dns_names), cert=cert, key=key)

    def bundle(self, system_bundle=SYSTEM_BUNDLE):
        """A PEM file with the system CA bundle (when present) followed by this test CA."""
        path = os.path.join(self.directory, "system-plus-test-ca.crt")
        with open(path, "w") as out:
            if system_bundle and os.path.exists(system_bundle):
                with open(system_bundle) as f:
                    system = f.read()
                out.write(system if system.endswith("\n") else system + "\n")
            with open(self.cert) as f:
                out.write(f.read())
        return path
