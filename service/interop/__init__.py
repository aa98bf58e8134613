"""diplo in the field's formats: event codes (PLOVER, CAMEO), exports analysts load, and a review queue
of candidate events read from machine-coded datasets (POLECAT, ICEWS, GDELT)."""
