"""medspaCy's Sectionizer, recording a note's sections on the tokens that start an entity only.

medspaCy writes the section onto every token of the doc through a custom attribute, which cost
about as much as the rest of the sectionizer and ConText together. The pipeline reads sections
only through entities (``doc[ent.start]._.section_category`` and the section -> assertion
mapping applied to ``doc.ents``), so this subclass finds the same sections with the same rules and
matcher and writes them onto entity start tokens; ``doc._.sections`` is filled as before. Rule
features this shortcut does not reproduce (parent sections, max scopes, start/end-of-line
requirements, header sentence boundaries) fall back to medspaCy's own ``__call__``.
"""

import bisect
from typing import Any

from medspacy.section_detection import Section, Sectionizer
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.components.batching import BatchedPipe

_MATCHER = "_Sectionizer__matcher"


class EntitySectionizer(Sectionizer, BatchedPipe):  # type: ignore[misc]
    _scoped_rules_for = -1
    _has_scoped_rules = False

    def _shortcut_applies(self) -> bool:
        rules = self.rules
        if self._scoped_rules_for != len(rules):  # checked again only when rules are added
            self._has_scoped_rules = any(rule.max_scope is not None for rule in rules)
            self._scoped_rules_for = len(rules)
        return not (
            self._parent_sections
            or self.require_start_line
            or self.require_end_line
            or self.max_section_length is not None
            or self._apply_sentence_boundary
            or self._input_span_type.lower() != "ents"
            or self._has_scoped_rules
        )

    def __call__(self, doc: Doc) -> Doc:
        if not self._shortcut_applies():
            result: Doc = super().__call__(doc)
            return result
        matcher: Any = getattr(self, _MATCHER)
        matches = matcher(doc)
        doc._.sections = []
        if not matches:
            doc._.sections.append(Section(None, 0, 0, 0, len(doc)))
            return doc
        sections: list[Section] = []
        if matches[0][1] != 0:
            sections.append(Section(None, 0, 0, 0, matches[0][1]))
        for i, (match_id, start, end) in enumerate(matches):
            rule = matcher.rule_map[self.nlp.vocab.strings[match_id]]
            body_end = matches[i + 1][1] if i + 1 < len(matches) else len(doc)
            sections.append(Section(rule.category, start, end, end, body_end, None, rule))
        doc._.sections.extend(sections)
        starts = [s.section_span[0] for s in sections]
        mapping = self.assertion_attributes_mapping
        for ent in doc.ents:
            i = bisect.bisect_right(starts, ent.start) - 1
            if i >= 0 and ent.start < sections[i].section_span[1]:
                section = sections[i]
                doc[ent.start]._.section = section
                # medspaCy's set_assertion_attributes, reading the section just assigned
                # (span._.section is the section of the span's first token).
                if mapping and section.category in mapping:
                    for attr_name, attr_value in mapping[section.category].items():
                        setattr(ent._, attr_name, attr_value)
        return doc


@Language.factory(
    "elig_sectionizer",
    assigns=["doc._.sections"],
    default_config={"rules": "default", "span_attrs": "default"},
)
def make_entity_sectionizer(
    nlp: Language, name: str, rules: str | None, span_attrs: Any
) -> EntitySectionizer:
    return EntitySectionizer(nlp, name=name, rules=rules, span_attrs=span_attrs)
