from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """One iteration: fast tests. The hash stays `pbkdf2_sha256$1$…`, which the app's own
    PBKDF2 hasher verifies, so daphne processes in end-to-end tests accept these users."""

    iterations = 1
