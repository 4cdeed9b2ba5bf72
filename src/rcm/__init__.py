"""RCM Compendium."""
