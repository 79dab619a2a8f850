"""History extractors: who changed what, down to the symbol (``symbols``), with merged author
identities (``identity``), historical paths (``paths``) and small git plumbing (``gitio``)."""
