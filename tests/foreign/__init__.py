"""An independent entity-resolution test population: two directory sites and their truth."""
