"""FEDn adapter: compute packages, local entry-point runs and sessions as crates."""
