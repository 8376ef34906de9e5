from tests.hooks.conftest import emulator, ld_connection  # noqa: F401  (shared fixtures)
