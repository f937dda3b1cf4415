"""The one rule for an error shown to a user as a line (`domain.wording.error_sentence`,
`explorer.wording.screen_sentence`): every screen and the teaching session say the same."""

from __future__ import annotations

import pytest
from eventscope.domain.wording import error_sentence, validation_sentence
from eventscope.explorer.wording import screen_sentence
from pydantic import BaseModel, ValidationError


class _Deposit(BaseModel):
    amount: int


def _validation_error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Deposit.model_validate(data)
    return caught.value


def test_the_first_non_blank_line_is_the_sentence() -> None:
    error = RuntimeError("\n  cannot read store.db: disk I/O error  \nSQL: SELECT 1\n")
    assert error_sentence(error) == "cannot read store.db: disk I/O error"


def test_an_empty_message_is_the_class_name() -> None:
    assert error_sentence(KeyError()) == "KeyError"
    assert error_sentence(ValueError("   \n ")) == "ValueError"


def test_a_validation_error_names_the_field_not_pydantic_s_header() -> None:
    error = _validation_error({"amount": "ten"})
    sentence = error_sentence(error)
    assert sentence.startswith("amount: ")
    assert "validation error" not in sentence
    assert validation_sentence(error) == sentence


def test_a_validation_error_of_the_whole_value_uses_the_given_word() -> None:
    error = _validation_error("not an object")
    assert validation_sentence(error, "payload").startswith("payload: ")
    assert error_sentence(error).startswith("data: ")


def test_a_screen_sentence_is_short_and_cannot_drive_the_terminal() -> None:
    shown = screen_sentence(LookupError("no stream '\x1b[2Jevil" + "x" * 500 + "'"))
    assert "\x1b" not in shown and "\\x1b" in shown
    assert len(shown) <= 203  # 200 characters, one of them the escape's four
    assert shown.endswith("…")
