"""Reading a student's whole write-up (``.tex``, ``.md``, ``.txt``) part by part.

:mod:`~grading.writeup.source` turns the file into numbered lines (comments, noise between
parts and macro definitions out, macros expanded by :mod:`~grading.writeup.macros`);
:mod:`~grading.writeup.parts` finds each part of the key by the markers students use;
:mod:`~grading.writeup.extract` takes from a part's text what its kind of question needs;
:mod:`~grading.writeup.grade` runs the reading in the isolated worker and grades each part
with the answer key, keeping what was read for the report. Nothing is imported at package
import.
"""
