"""A real RFC 3161 timestamp authority on 127.0.0.1 for the tests: ``openssl ts -reply``.

``LocalTimestampAuthority`` makes its own test PKI in a directory: a root CA, a TSA
certificate issued by it (critical extended key usage timeStamping, as RFC 3161 asks),
and a certificate revocation list. It serves, on one port of 127.0.0.1:

- ``POST /tsa``: the request body goes to ``openssl ts -reply``; its answer comes back
  as ``application/timestamp-reply``. No Python code signs anything here.
- ``GET /ca.crl``: the CA's CRL (DER), which every certificate it issues names as its
  CRL distribution point, so a seal can embed revocation data (PAdES B-LT).

``issue_seal_pkcs12`` issues a seal certificate from the same CA, for tests of a seal
whose chain the portal must validate. ``outage()`` makes the TSA answer 503 for a while.
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TSA_POLICY = "1.3.6.1.4.1.4146.99.1"  # an OID for a test policy; nobody relies on it

OPENSSL_TS_CONFIG = """\
[ tsa ]
default_tsa = test_tsa

[ test_tsa ]
dir = {directory}
serial = $dir/tsa-serial
crypto_device = builtin
signer_cert = $dir/tsa-cert.pem
certs = $dir/ca-cert.pem
signer_key = $dir/tsa-key.pem
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
clock_precision_digits = 0
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


class LocalTimestampAuthority:
    """A test CA, its CRL and its TSA, served by ``openssl ts`` on 127.0.0.1."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.tsa_key = ec.generate_private_key(ec.SECP256R1())
        self._lock = threading.Lock()  # openssl ts counts serial numbers in a file
        self._unavailable = False
        self.requests = 0  # timestamps issued
        self.crl_requests = 0  # CRLs served
        authority = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                if self.path != "/tsa":
                    self.send_error(404)
                    return
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if authority._unavailable:
                    self.send_error(503, "TSA unavailable")
                    return
                authority.requests += 1
                self._answer(authority.reply(query), "application/timestamp-reply")

            def do_GET(self):
                if self.path != "/ca.crl":
                    self.send_error(404)
                    return
                authority.crl_requests += 1
                self._answer(authority.crl_der, "application/pkix-crl")

            def _answer(self, body: bytes, content_type: str):
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        # Bound first: the certificates name the server's address in their CRL pointer.
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self.server.server_port}"
        self.url = f"{base}/tsa"
        self.crl_url = f"{base}/ca.crl"
        self._write_pki()
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- the PKI --------------------------------------------------------------------------

    def _write_pki(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        ca_name = _name("SLA-Portal Test-CA")
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .sign(self.ca_key, hashes.SHA256())
        )
        self.tsa_cert = self.issue(
            self.tsa_key,
            "SLA-Portal Test-Zeitstempeldienst",
            key_usage=_key_usage(digital_signature=True, content_commitment=True),
            extended_key_usage=[ExtendedKeyUsageOID.TIME_STAMPING],
        )
        self.crl_der = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_name)
            .last_update(now - datetime.timedelta(minutes=5))
            .next_update(now + datetime.timedelta(days=7))
            .add_extension(x509.CRLNumber(1), critical=False)
            .sign(self.ca_key, hashes.SHA256())
            .public_bytes(serialization.Encoding.DER)
        )
        self.ca_cert_file = self.directory / "ca-cert.pem"
        self.ca_cert_file.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))
        (self.directory / "tsa-cert.pem").write_bytes(
            self.tsa_cert.public_bytes(serialization.Encoding.PEM)
        )
        (self.directory / "tsa-key.pem").write_bytes(
            self.tsa_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (self.directory / "tsa-serial").write_text("01\n")
        self.config_file = self.directory / "openssl-ts.cnf"
        self.config_file.write_text(
            OPENSSL_TS_CONFIG.format(directory=self.directory, policy=TSA_POLICY)
        )

    def issue(
        self,
        key,
        common_name: str,
        *,
        key_usage: x509.KeyUsage,
        extended_key_usage=None,
        crl_url: str | None = None,
        valid_for: datetime.timedelta = datetime.timedelta(days=5 * 365),
    ) -> x509.Certificate:
        """A certificate for ``key`` from the test CA, valid for five years (or
        ``valid_for``), pointing at the CA's CRL (or at ``crl_url``)."""
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + valid_for)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage, critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            full_name=[x509.UniformResourceIdentifier(crl_url or self.crl_url)],
                            relative_name=None,
                            reasons=None,
                            crl_issuer=None,
                        )
                    ]
                ),
                critical=False,
            )
        )
        if extended_key_usage:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage(extended_key_usage), critical=True
            )
        return builder.sign(self.ca_key, hashes.SHA256())

    def issue_seal_pkcs12(
        self, path: Path, passphrase: bytes, common_name: str, **issue_options
    ) -> Path:
        """A seal key and certificate from the test CA, with the CA in the bundle."""
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = self.issue(
            key,
            common_name,
            key_usage=_key_usage(digital_signature=True, content_commitment=True),
            **issue_options,
        )
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                name=b"seal",
                key=key,
                cert=certificate,
                cas=[self.ca_cert],
                encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
            )
        )
        return path

    def configure_seal(self, settings, path: Path, common_name: str, **issue_options) -> None:
        """Make Django's ``settings`` seal as production does: a seal certificate from
        this CA (``issue_seal_pkcs12``), this TSA, and this CA as the trust root."""
        settings.SLA_SEAL_PKCS12_FILE = str(
            self.issue_seal_pkcs12(path, b"geheim", common_name, **issue_options)
        )
        settings.SLA_SEAL_PASSPHRASE = "geheim"
        settings.SLA_SEAL_TIMESTAMP_URL = self.url
        settings.SLA_SEAL_TRUST_ROOTS_FILE = str(self.ca_cert_file)

    # --- the server -----------------------------------------------------------------------

    def reply(self, query: bytes) -> bytes:
        """The DER TimeStampResp that ``openssl ts -reply`` gives for a DER TimeStampReq."""
        with self._lock, tempfile.TemporaryDirectory(dir=self.directory) as work:
            query_file, reply_file = Path(work) / "query.tsq", Path(work) / "reply.tsr"
            query_file.write_bytes(query)
            command = ["openssl", "ts", "-reply", "-config", str(self.config_file)]
            command += ["-queryfile", str(query_file), "-out", str(reply_file)]
            subprocess.run(command, check=True, capture_output=True)
            return reply_file.read_bytes()

    @contextlib.contextmanager
    def outage(self):
        """While inside, the TSA answers every request with "503 Service Unavailable"."""
        self._unavailable = True
        try:
            yield
        finally:
            self._unavailable = False

    def start(self) -> LocalTimestampAuthority:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def unused_local_url(path: str) -> str:
    """An address on 127.0.0.1 where nobody listens: a server that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}{path}"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SLA-Portal Tests"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CH"),
        ]
    )


def _key_usage(**flags: bool) -> x509.KeyUsage:
    names = (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    )  # fmt: skip
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})
