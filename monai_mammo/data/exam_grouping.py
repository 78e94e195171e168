"""Which mammograms make one exam: the views of one woman on one day, grouped by the best evidence at hand.

A screening exam is CC + MLO of both breasts. DICOM says which images belong together with
``StudyInstanceUID``, and whose they are with ``PatientID`` and ``StudyDate``, but the public data sets do not
always fill them that way: CBIS-DDSM gives every image its own ``StudyInstanceUID`` and a ``PatientID`` per
view (``Mass-Test_P_00173_LEFT_CC``), and PNG conversions (mini-MIAS, DDSM, CDD-CESM) carry no tags at all,
only a file name. :func:`group_exams` looks at all the images of a run together and applies these rules in
order; the first rule that puts an image together with at least one other image wins, and its name is kept
as ``grouped_by``:

1. ``datalist exam_id``: the datalist names the exam (``exam_id``/``study_id``); always taken as it is;
2. ``StudyInstanceUID``: a study UID that several images share;
3. ``patient_id+StudyDate`` (``patient_id`` without a date): the datalist's patient id (the importers of
   :mod:`monai_mammo.data.datasets` write the woman there) and the DICOM ``StudyDate``;
4. ``PatientID+StudyDate`` (``PatientID`` without a date): the DICOM ``PatientID``, unless it names a side or
   a view (then it is an id per image, not per woman);
5. ``<data set> patient_id pattern`` / ``<data set> PatientID pattern``: in place of 3 and 4, when the id
   follows a public data set's naming convention (:data:`NAMING_CONVENTIONS`), the woman it names;
6. ``<data set> file name pattern``: the convention matched by the file name or its parent folders
   (CBIS-DDSM's case folders hold files named ``1-1.dcm``);
7. an image that no rule groups with another keeps the first rule that applies to it (its own study UID,
   its patient id, ...), and ``image`` (the image's own name) when none does.

The data set conventions reuse the importers' own patterns (in :mod:`monai_mammo.data.datasets`:
``cbis_ddsm.CASE_FOLDER``, ``ddsm_boxes.DDSM_NAME``, ``mini_mias.IMAGE_NAME``, ``inbreast.DICOM_NAME``);
a convention also gives the side and view when the image's metadata lacks them.
CBIS-DDSM, DDSM and mini-MIAS hold one exam per woman (their DICOM ``StudyDate`` is the date of the
conversion, not of the exam), so their exam is the woman; for the others a known ``StudyDate`` separates
a woman's exams.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from monai_mammo.data.datasets.cbis_ddsm import CASE_FOLDER
from monai_mammo.data.datasets.ddsm_boxes import DDSM_NAME
from monai_mammo.data.datasets.inbreast import DICOM_NAME
from monai_mammo.data.datasets.mini_mias import IMAGE_NAME, mias_laterality, mias_woman
from monai_mammo.data.mammo_meta import UNKNOWN, laterality_from_text, path_texts, view_from_text
from monai_mammo.utils.enums import Laterality, ViewPosition

__all__ = [
    "CDD_CESM_NAME",
    "GROUPED_BY_EXAM_ID",
    "GROUPED_BY_IMAGE",
    "GROUPED_BY_STUDY",
    "NAMING_CONVENTIONS",
    "ExamAssignment",
    "ExamEvidence",
    "NameMatch",
    "NamingConvention",
    "group_exams",
    "id_names_a_view",
    "match_naming_convention",
]

GROUPED_BY_EXAM_ID = "datalist exam_id"
GROUPED_BY_STUDY = "StudyInstanceUID"
GROUPED_BY_IMAGE = "image"

CDD_CESM_NAME = re.compile(r"^(?:.*_)?(P\d+)_([LR])_(DM|CM)_(CC|MLO)$", re.IGNORECASE)
"""A CDD-CESM image's name, ``P132_R_DM_MLO`` (``DM`` low energy, ``CM`` subtracted): ``P132`` is the
woman; an exporter's prefix (``flipped_P132_R_DM_MLO``) is allowed."""


@dataclass(frozen=True)
class NameMatch:
    """What a naming convention read from an id or a file name.

    Args:
        dataset: the data set whose convention matched (``"CBIS-DDSM"``).
        patient_id: the woman (``"P_00173"``).
        laterality: ``"L"``, ``"R"`` or ``"UNKNOWN"``.
        view: ``"CC"``, ``"MLO"``, ... or ``"UNKNOWN"``.
        one_exam_per_patient: the data set holds one exam per woman (its exam is the woman).
    """

    dataset: str
    patient_id: str
    laterality: str
    view: str
    one_exam_per_patient: bool


@dataclass(frozen=True)
class NamingConvention:
    """A public data set's way of writing the woman, side and view into a name.

    Args:
        dataset: the data set's name, as written into ``grouped_by``.
        pattern: matched against the whole name (a file stem, a folder name or an id).
        parse: the match -> ``(patient, laterality, view)``.
        one_exam_per_patient: see :class:`NameMatch`.
        example: a name that follows the convention.
    """

    dataset: str
    pattern: re.Pattern[str]
    parse: Callable[[re.Match[str]], tuple[str, str, str]]
    one_exam_per_patient: bool
    example: str

    def match(self, text: str) -> NameMatch | None:
        """The woman, side and view in ``text``, or ``None`` when it does not follow the convention."""
        found = self.pattern.match(text.strip())
        if found is None:
            return None
        patient, laterality, view = self.parse(found)
        return NameMatch(
            self.dataset,
            patient,
            Laterality.parse(laterality).value,
            ViewPosition.parse(view).value,
            self.one_exam_per_patient,
        )


NAMING_CONVENTIONS: tuple[NamingConvention, ...] = (
    NamingConvention(
        "CBIS-DDSM",
        CASE_FOLDER,
        lambda m: (m.group(3).upper(), m.group(4), m.group(5)),
        True,
        "Calc-Training_P_00005_RIGHT_CC_1",
    ),
    NamingConvention(
        "DDSM",
        DDSM_NAME,
        lambda m: (m.group("case").upper(), m.group("side"), m.group("view")),
        True,
        "A_1639_1-LEFT_MLO",
    ),
    NamingConvention(
        "mini-MIAS",
        IMAGE_NAME,
        lambda m: (mias_woman(int(m.group(1))), mias_laterality(int(m.group(1))), "MLO"),
        True,
        "mdb001",
    ),
    NamingConvention(
        "INbreast",
        DICOM_NAME,
        lambda m: (m.group(2).lower(), m.group(3), m.group(4)),
        False,
        "22678622_61b13c59bcba149e_MG_R_CC_ANON",
    ),
    NamingConvention(
        "CDD-CESM",
        CDD_CESM_NAME,
        lambda m: (m.group(1).upper(), m.group(2), m.group(4)),
        False,
        "P132_R_DM_MLO",
    ),
)
"""The public data set conventions :func:`group_exams` knows, tried in this order. VinDr-Mammo, CMMD and RSNA
write the woman and the study into the DICOM tags, which rules 2 to 4 read."""


def match_naming_convention(*texts: object) -> NameMatch | None:
    """The first of ``texts`` that follows one of :data:`NAMING_CONVENTIONS`, read.

    Args:
        texts: ids, file stems or folder names, most trustworthy first; ``None`` entries are skipped.

    Returns:
        The match, or ``None`` when no text follows a known convention.
    """
    for text in texts:
        if text is None:
            continue
        for convention in NAMING_CONVENTIONS:
            found = convention.match(str(text))
            if found is not None:
                return found
    return None


def id_names_a_view(patient_id: str) -> bool:
    """Whether a patient id names a view or the word LEFT/RIGHT: then it is an id per image, not per woman.

    Uses the readers' own text parsing (:func:`monai_mammo.data.mammo_meta.view_from_text`,
    :func:`~monai_mammo.data.mammo_meta.laterality_from_text` with whole words only).
    """
    return (
        view_from_text(patient_id) is not ViewPosition.UNKNOWN
        or laterality_from_text(patient_id, letters=False) is not Laterality.UNKNOWN
    )


@dataclass(frozen=True)
class ExamEvidence:
    """What one image says about its exam, before the images of a run are grouped.

    Args:
        name: the image's name (e.g. its output folder name); the exam of an image nothing groups.
        exam_id: an exam id the datalist gives (``exam_id``/``study_id``).
        patient_id: the datalist's patient id (the woman).
        study_uid: the ``StudyInstanceUID`` (datalist or DICOM).
        dicom_patient_id: the DICOM ``PatientID``.
        study_date: the DICOM ``StudyDate``.
        source: the image's file path, for the file name conventions.
        laterality: the image's side from its datalist item or metadata (``"UNKNOWN"`` if neither says).
        view: the image's view, likewise.
    """

    name: str
    exam_id: str | None = None
    patient_id: str | None = None
    study_uid: str | None = None
    dicom_patient_id: str | None = None
    study_date: str | None = None
    source: str | None = None
    laterality: str = UNKNOWN
    view: str = UNKNOWN


@dataclass(frozen=True)
class ExamAssignment:
    """The exam :func:`group_exams` gave an image, and why.

    Args:
        exam_id: the exam.
        patient_id: the woman.
        laterality: the side (from the evidence, else from a naming convention).
        view: the view, likewise.
        grouped_by: the rule that made the exam (see the module docstring).
    """

    exam_id: str
    patient_id: str
    laterality: str
    view: str
    grouped_by: str

    def identity(self) -> dict[str, str]:
        """``exam_id``, ``patient_id``, ``laterality`` and ``view`` (the fields of a view prediction)."""
        return {
            "exam_id": self.exam_id,
            "patient_id": self.patient_id,
            "laterality": self.laterality,
            "view": self.view,
        }


# the rank of each kind of rule: lower ranks are tried first
_EXPLICIT, _STUDY, _DATALIST_PATIENT, _DICOM_PATIENT, _FILE_NAME, _IMAGE = range(6)


@dataclass(frozen=True)
class _Candidate:
    rank: int
    exam_id: str
    grouped_by: str


def _exam_of(patient: str, date: str | None) -> str:
    return f"{patient}_{date}" if date else patient


class _Reading:
    """Everything the rules need from one image's evidence, read once."""

    def __init__(self, evidence: ExamEvidence) -> None:
        self.evidence = evidence
        date = evidence.study_date
        ids = (
            (_DATALIST_PATIENT, "patient_id", evidence.patient_id),
            (_DICOM_PATIENT, "PatientID", evidence.dicom_patient_id),
        )
        self.candidates: list[_Candidate] = []
        self.patients: list[str] = []  # the woman, best guess first
        self.raw_patients: list[str] = []  # ids that name a view: only when nothing better is known
        self.matches: list[NameMatch] = []
        if evidence.exam_id:
            self.candidates.append(_Candidate(_EXPLICIT, evidence.exam_id, GROUPED_BY_EXAM_ID))
        if evidence.study_uid:
            self.candidates.append(_Candidate(_STUDY, evidence.study_uid, GROUPED_BY_STUDY))
        for rank, label, value in ids:
            if not value:
                continue
            found = match_naming_convention(value)
            if found is not None:
                self.matches.append(found)
                self.patients.append(found.patient_id)
                exam = _exam_of(found.patient_id, None if found.one_exam_per_patient else date)
                self.candidates.append(_Candidate(rank, exam, f"{found.dataset} {label} pattern"))
            elif id_names_a_view(value):
                self.raw_patients.append(value)
            else:
                self.patients.append(value)
                rule = f"{label}+StudyDate" if date else label
                self.candidates.append(_Candidate(rank, _exam_of(value, date), rule))
        found = match_naming_convention(*path_texts(evidence.source)) if evidence.source else None
        if found is not None:
            self.matches.append(found)
            self.patients.append(found.patient_id)
            exam = _exam_of(found.patient_id, None if found.one_exam_per_patient else date)
            self.candidates.append(_Candidate(_FILE_NAME, exam, f"{found.dataset} file name pattern"))
        self.candidates.append(_Candidate(_IMAGE, evidence.name, GROUPED_BY_IMAGE))

    def candidate(self, rank: int) -> _Candidate | None:
        return next((c for c in self.candidates if c.rank == rank), None)

    def assignment(self, chosen: _Candidate) -> ExamAssignment:
        evidence = self.evidence
        laterality = Laterality.parse(evidence.laterality)
        view = ViewPosition.parse(evidence.view)
        for found in self.matches:
            if laterality is Laterality.UNKNOWN:
                laterality = Laterality.parse(found.laterality)
            if view is ViewPosition.UNKNOWN:
                view = ViewPosition.parse(found.view)
        patient = next(iter([*self.patients, *self.raw_patients]), chosen.exam_id)
        return ExamAssignment(chosen.exam_id, patient, laterality.value, view.value, chosen.grouped_by)


def group_exams(images: Sequence[ExamEvidence]) -> list[ExamAssignment]:
    """Group the images of one run into exams (the rules are in the module docstring).

    The rules are applied in order to the images that no earlier rule has grouped: a rule groups the images
    that share its key when there are at least two of them (a datalist's exam id groups even one image). An
    image left alone at the end takes the first rule that applies to it.

    Args:
        images: what each image says about its exam, in run order.

    Returns:
        One assignment per image, in the same order.

    Example:
        .. code-block:: python

            sides = [("LEFT", "CC"), ("LEFT", "MLO"), ("RIGHT", "CC"), ("RIGHT", "MLO")]
            views = [
                ExamEvidence(f"1-13{i}", dicom_patient_id=f"Mass-Test_P_00173_{s}_{v}", study_uid=f"1.2.{i}")
                for i, (s, v) in enumerate(sides)
            ]
            {a.exam_id for a in group_exams(views)}  # {"P_00173"}: "CBIS-DDSM PatientID pattern"
    """
    readings = [_Reading(e) for e in images]
    chosen: list[_Candidate | None] = [None] * len(readings)
    for rank in (_EXPLICIT, _STUDY, _DATALIST_PATIENT, _DICOM_PATIENT, _FILE_NAME):
        open_ = [(i, r.candidate(rank)) for i, r in enumerate(readings) if chosen[i] is None]
        counts = Counter(c.exam_id for _, c in open_ if c is not None)
        for i, candidate in open_:
            if candidate is not None and (rank == _EXPLICIT or counts[candidate.exam_id] >= 2):
                chosen[i] = candidate
    return [
        reading.assignment(pick if pick is not None else reading.candidates[0])
        for reading, pick in zip(readings, chosen)
    ]
