"""What `Corrector.fix`, `check` and `fix_batch` return, and in what units."""

import pytest

import typofix


def test_the_prototypes_examples_come_out_right(corrector):
    assert corrector.fix("Thi sis a test sentenc with typos").text == (
        "This is a test sentence with typos"
    )
    assert corrector.fix("The quikc brown fox jumps over teh lazy dog").text == (
        "The quick brown fox jumps over the lazy dog"
    )
    assert corrector.fix("I went too the stor to buy som milk").text.startswith(
        "I went to the "
    )


def test_an_edit_says_what_changed_where_and_how_sure_the_model_is(corrector):
    fix = corrector.fix("I recieved teh letter")
    assert fix.changed and fix.unchecked is None
    first = fix.edits[0]
    assert (first.start, first.end, first.original, first.replacement) == (
        2,
        10,
        "recieved",
        "received",
    )
    assert first.kind == "misspelling"
    assert 0.0 < first.confidence <= 1.0


def test_correct_text_is_returned_as_it_is(corrector):
    text = "The committee will meet on Tuesday.\n  Nothing here is wrong.  "
    fix = corrector.fix(text)
    assert fix.text == text
    assert fix.edits == [] and not fix.changed


@pytest.mark.parametrize(
    "text",
    [
        "Café au lait: teh best, recieved wel.",
        "😀😀 teh emoji 👍🏽 recieved",
        "中文 teh 日本語 recieved 한국어 teh",
        "e\u0301 combining teh",
    ],
)
def test_offsets_are_python_string_indices_whatever_the_script(corrector, text):
    fix = corrector.fix(text)
    assert fix.edits, "each text has a typo"
    rebuilt, at = [], 0
    for edit in fix.edits:
        assert text[edit.start : edit.end] == edit.original
        rebuilt += [text[at : edit.start], edit.replacement]
        at = edit.end
    assert "".join(rebuilt) + text[at:] == fix.text


def test_check_gives_the_edits_that_fix_makes(corrector):
    text = "Thi sis a test sentenc"
    assert corrector.check(text) == corrector.fix(text).edits


def test_a_batch_gives_what_one_text_at_a_time_gives(corrector):
    texts = ["teh cat sat", "", "He has alot of freinds.", "Fine as it is.", "é teh"]
    assert [f.text for f in corrector.fix_batch(texts)] == [
        corrector.fix(t).text for t in texts
    ]
    assert [f.edits for f in corrector.fix_batch(texts)] == [
        corrector.fix(t).edits for t in texts
    ]


def test_allowed_words_are_kept_in_any_case(corrector):
    assert corrector.fix("Teh cat").text == "The cat"
    assert corrector.fix("Teh cat", allow=["teh"]).text == "Teh cat"
    assert corrector.fix("Teh cat", allow={"TEH"}).text == "Teh cat"


def test_allow_refuses_a_bare_string(corrector):
    with pytest.raises(TypeError, match=r'allow=\["kubectl"\]'):
        corrector.fix("teh", allow="teh")


def test_a_higher_threshold_corrects_less(corrector):
    text = "I went too the stor to buy som milk"
    assert len(corrector.fix(text, threshold=1e6).edits) == 0
    assert len(corrector.fix(text, threshold=None).edits) > 0


def test_a_spent_timeout_returns_the_text_unchecked_from_where_it_stopped(corrector):
    text = "é " + "teh cat sat on teh mat. " * 400
    fix = corrector.fix(text, timeout=0.0)
    assert fix.unchecked is not None
    assert fix.text[fix.unchecked - len(text) :] == text[fix.unchecked :]
    full = corrector.fix(text[:200])
    assert full.unchecked is None


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_options_are_value_errors(corrector, bad):
    with pytest.raises(ValueError):
        corrector.fix("teh", timeout=bad)
    if bad != -1.0:
        with pytest.raises(ValueError, match="threshold"):
            corrector.fix("teh", threshold=bad)


def test_reprs_read_as_python(corrector):
    fix = corrector.fix("teh cat")
    assert repr(fix).startswith('Fix(text="the cat", edits=[Edit(start=0, end=3')
    assert repr(corrector) == "Corrector()"
    assert typofix.__version__.count(".") == 2
