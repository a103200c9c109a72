"""Attribute classifier training: the annotator that labels faces and the judge that grades
edits, both trained on procedural renders with their ground-truth labels."""
