"""What the tests share: the vendor emulator, a local CA and proxy, a memory keyring, processes."""
