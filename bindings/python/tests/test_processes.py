"""A corrector across threads and processes, and a damaged model at load."""

import multiprocessing
import pickle
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import typofix
from conftest import SHIPPED

TEXTS = ["teh cat sat on teh mat", "He has alot of freinds.", "Thi sis a test"] * 4


def test_threads_share_one_corrector_and_get_what_one_thread_gets(corrector):
    alone = [f.text for f in corrector.fix_batch(TEXTS)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: corrector.fix_batch(TEXTS), range(8)))
    assert all([f.text for f in r] == alone for r in results)


def test_the_gil_is_released_while_the_model_works(corrector):
    # Numbered: repeated texts would share their model inputs.
    texts = [f"teh cat {n} sat on teh mat and recieved a letter" for n in range(200)]
    worker = threading.Thread(target=corrector.fix_batch, args=(texts,))
    spins = 0
    worker.start()
    while worker.is_alive():
        spins += 1
    worker.join()
    # Held, the GIL would stop this loop for the whole batch (seconds); as
    # it is, the loop runs millions of times.
    assert spins > 100_000


def test_the_builtin_corrector_pickles_as_itself(corrector):
    again = pickle.loads(pickle.dumps(corrector))
    assert repr(again) == "Corrector()"
    assert again.fix("teh cat").text == "the cat"


def test_fixes_and_edits_pickle_as_their_values(corrector):
    fix = corrector.fix("Café teh cat")
    assert pickle.loads(pickle.dumps(fix)) == fix
    assert pickle.loads(pickle.dumps(fix.edits[0])) == fix.edits[0]


def test_an_edit_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown error kind"):
        typofix.Edit(0, 3, "teh", "the", "typo", 0.9)


def test_a_loaded_corrector_pickles_as_a_load_of_the_same_path():
    loaded = typofix.Corrector.load(str(SHIPPED))
    again = pickle.loads(pickle.dumps(loaded))
    assert repr(again) == repr(loaded) == f'Corrector.load("{SHIPPED}")'
    assert again.fix("teh cat").text == "the cat"


def fix_in_worker(args):
    corrector, text = args
    return corrector.fix(text)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_worker_processes_get_their_own_corrector(corrector, method):
    context = multiprocessing.get_context(method)
    with context.Pool(2) as pool:
        out = pool.map(fix_in_worker, [(corrector, t) for t in TEXTS[:3]])
    assert out == [corrector.fix(t) for t in TEXTS[:3]]
    assert [f.text for f in out] == [
        "the cat sat on the mat",
        "He has a lot of friends.",
        "This is a test",
    ]


# In a fresh interpreter: this one has run the model already.
FORK_AFTER_LOAD = """
import multiprocessing, typofix
corrector = typofix.Corrector()
with multiprocessing.get_context("fork").Pool(2) as pool:
    print(pool.starmap(typofix.Corrector.fix, [(corrector, "teh cat"), (corrector, "Thi sis")]))
"""


def test_forked_workers_can_run_a_corrector_their_parent_only_loaded():
    out = subprocess.run(
        [sys.executable, "-c", FORK_AFTER_LOAD],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert 'Fix(text="the cat"' in out.stdout and 'Fix(text="This is"' in out.stdout


def run_after_fork(corrector, answers):
    try:
        corrector.fix("teh cat")
        answers.put("ran")
    except typofix.TypofixError as e:
        answers.put(str(e))


def test_a_process_forked_after_the_model_ran_is_refused_not_hung(corrector):
    corrector.fix("teh cat")
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=run_after_fork, args=(corrector, answers))
    start = time.monotonic()
    child.start()
    answer = answers.get(timeout=60)
    child.join(timeout=60)
    assert "forked from one that had already run" in answer
    assert "'spawn'" in answer
    assert time.monotonic() - start < 60


def damaged_copy(tmp_path, damage, checksums):
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    if not checksums:
        (model / "SHA256SUMS").unlink()
    weights = model / "model.safetensors"
    data = bytearray(weights.read_bytes())
    weights.write_bytes(damage(data))
    return model


def flip_a_bit(data):
    data[-1000] ^= 0x10
    return data


@pytest.mark.parametrize(
    "damage, checksums, reason",
    [
        (lambda data: data[: len(data) // 2], True, "SHA256SUMS"),
        (lambda data: data[: len(data) // 2], False, "truncated"),
        (flip_a_bit, True, "SHA256SUMS"),
    ],
    ids=["truncated", "truncated-without-checksums", "bit-flipped"],
)
def test_a_damaged_model_is_refused_at_load_with_the_reason(
    tmp_path, damage, checksums, reason
):
    model = damaged_copy(tmp_path, damage, checksums)
    with pytest.raises(typofix.TypofixError, match=reason):
        typofix.Corrector.load(model)


def test_a_missing_model_says_what_a_model_directory_holds(tmp_path):
    with pytest.raises(typofix.TypofixError, match="config.json"):
        typofix.Corrector.load(tmp_path)
