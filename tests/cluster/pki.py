"""Certificates, keys and the token the control plane uses (made fresh per cluster).

One CA signs the API server's serving certificate; one RSA key signs service
account tokens; one static token (group ``system:masters``) is what every
component and the tests authenticate with. The cluster lives for one test
module inside its own network namespace, so per-component identities would
prove nothing here; authorization is still RBAC.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Pki:
    folder: Path
    token: str

    @property
    def ca(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def server_cert(self) -> Path:
        return self.folder / "apiserver.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "apiserver.key"

    @property
    def sa_key(self) -> Path:
        return self.folder / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.folder / "sa.pub"

    @property
    def tokens(self) -> Path:
        return self.folder / "tokens.csv"

    @property
    def kubeconfig(self) -> Path:
        return self.folder / "admin.kubeconfig"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    sans: list[x509.GeneralName],
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def create(folder: Path, server_ip: str) -> Pki:
    """Write the CA, serving certificate, SA key pair, token file and admin kubeconfig."""
    folder.mkdir(parents=True, exist_ok=True)
    pki = Pki(folder, secrets.token_hex(24))
    ca_key = _key()
    ca = _cert("weather-warehouse-test-ca", ca_key, None, ca_key, [])
    server_key = _key()
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(ip)) for ip in (server_ip, "10.96.0.1", "127.0.0.1")
    ] + [
        x509.DNSName(n)
        for n in ("kubernetes", "kubernetes.default", "kubernetes.default.svc", "localhost")
    ]
    server = _cert("kube-apiserver", server_key, ca, ca_key, sans)
    pem = serialization.Encoding.PEM
    pki.ca.write_bytes(ca.public_bytes(pem))
    pki.server_cert.write_bytes(server.public_bytes(pem))
    pki.server_key.write_bytes(_pem_key(server_key))
    sa = _key()
    pki.sa_key.write_bytes(_pem_key(sa))
    pki.sa_pub.write_bytes(
        sa.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    pki.tokens.write_text(f'{pki.token},admin,admin,"system:masters"\n')
    pki.kubeconfig.write_text(yaml.safe_dump(kubeconfig(pki, f"https://{server_ip}:6443")))
    for path in folder.iterdir():
        path.chmod(0o600)
    return pki


def kubeconfig(pki: Pki, server: str) -> dict[str, object]:
    """A kubeconfig for ``server`` with the CA file and the admin token."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "ww", "cluster": {"server": server, "certificate-authority": str(pki.ca)}}
        ],
        "users": [{"name": "admin", "user": {"token": pki.token}}],
        "contexts": [{"name": "ww", "context": {"cluster": "ww", "user": "admin"}}],
        "current-context": "ww",
    }
