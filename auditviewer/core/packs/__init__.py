"""Evidence packs: signed, self-checking folders of exported entries, and their check."""
