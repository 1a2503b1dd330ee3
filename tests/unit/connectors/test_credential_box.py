from __future__ import annotations

from pathlib import Path

import pytest

from core.security.encryption import (
    CredentialBox,
    CredentialsUnreadable,
    EncryptionKeyMissing,
    generate_key,
)
from core.settings import Settings

CONFIG = {"dsn": "postgresql://reader:s3cret-pw@db.internal:5432/products", "port": 5432}


def test_round_trip_hides_the_secret() -> None:
    box = CredentialBox([generate_key()])
    token = box.encrypt(CONFIG)
    assert "s3cret-pw" not in token and "reader" not in token
    assert box.decrypt(token) == CONFIG


def test_first_key_encrypts_all_keys_decrypt_and_rotation_moves_to_the_new_key() -> None:
    old, new = generate_key(), generate_key()
    token_old = CredentialBox([old]).encrypt(CONFIG)
    both = CredentialBox([new, old])
    assert both.decrypt(token_old) == CONFIG
    rotated = both.rotate(token_old)
    assert CredentialBox([new]).decrypt(rotated) == CONFIG
    with pytest.raises(CredentialsUnreadable):
        CredentialBox([old]).decrypt(rotated)


def test_wrong_key_or_garbage_is_a_clear_error() -> None:
    token = CredentialBox([generate_key()]).encrypt(CONFIG)
    other = CredentialBox([generate_key()])
    with pytest.raises(CredentialsUnreadable):
        other.decrypt(token)
    with pytest.raises(CredentialsUnreadable):
        other.decrypt("not-a-token")
    with pytest.raises(CredentialsUnreadable):
        other.rotate(token)


def test_settings_keys_are_comma_separated() -> None:
    first, second = generate_key(), generate_key()
    settings = Settings(env="test", connector_encryption_key=f" {first} , {second} ")
    token = CredentialBox([second]).encrypt(CONFIG)
    assert CredentialBox.from_settings(settings).decrypt(token) == CONFIG


def test_no_key_outside_development_is_refused(tmp_path: Path) -> None:
    for env in ("test", "production"):
        with pytest.raises(EncryptionKeyMissing, match="CONNECTOR_ENCRYPTION_KEY"):
            CredentialBox.from_settings(Settings(env=env, data_dir=tmp_path, connector_encryption_key=None))


def test_malformed_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(EncryptionKeyMissing) as err:
        CredentialBox(["definitely-not-a-fernet-key"])
    assert "definitely-not-a-fernet-key" not in err.value.message


def test_development_generates_and_keeps_one_key(tmp_path: Path) -> None:
    settings = Settings(env="development", data_dir=tmp_path, connector_encryption_key=None)
    token = CredentialBox.from_settings(settings).encrypt(CONFIG)
    key_file = tmp_path / "connector-encryption.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    # a later process (same data_dir) still reads what the first one stored
    assert CredentialBox.from_settings(settings).decrypt(token) == CONFIG
