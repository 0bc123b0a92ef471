from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """One iteration: fast tests. The hash stays `pbkdf2_sha256$1$…`, which the app's own
    PBKDF2 hasher verifies, so daphne processes in end-to-end tests accept these users."""

    iterations = 1


class CountingPasswordHasher(FastPBKDF2PasswordHasher):
    """Counts the passwords it hashes, checks included (`verify` hashes): a test sets
    PASSWORD_HASHERS to this one and reads `hashed` to see which attempts were evaluated."""

    hashed = 0

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        type(self).hashed += 1
        return super().encode(password, salt, iterations)
