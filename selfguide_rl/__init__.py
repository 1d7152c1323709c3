"""selfguide_rl: offline reinforcement learning with self-weighted guidance."""
