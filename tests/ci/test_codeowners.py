"""CODEOWNERS: the sections parse, every file and top-level folder of the repository has
an owner, and each team owns the folders the issue gives it."""

from __future__ import annotations

import subprocess

import pytest
from ci_repo import REPO

from batchops.codeowners import CodeownersError, owning_sections, parse

CODEOWNERS = REPO / "CODEOWNERS"
SECTIONS = parse(CODEOWNERS.read_text(encoding="utf-8"))


def _repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name]


FILES = _repository_files()
TOP_LEVEL_FOLDERS = sorted({name.split("/", 1)[0] for name in FILES if "/" in name})


def test_sections_parse_with_their_approval_settings() -> None:
    by_name = {section.name: section for section in SECTIONS}
    assert set(by_name) == {
        "Data Science",
        "ML Engineering",
        "Platform",
        "Security",
        "Release Management",
        "Model Review",
    }
    assert by_name["Platform"].approvals == 2
    assert not by_name["Release Management"].optional
    assert by_name["Model Review"].optional
    for section in SECTIONS:
        assert section.entries, f"[{section.name}] owns nothing"
        assert all(owner.startswith("@batchops/") for e in section.entries for owner in e.owners)


def test_there_is_no_catch_all_rule() -> None:
    patterns = [entry.pattern for section in SECTIONS for entry in section.entries]
    assert not {"*", "/*", "**", "/**", "/"} & set(patterns)


@pytest.mark.parametrize("folder", TOP_LEVEL_FOLDERS)
def test_every_top_level_folder_has_an_owner(folder: str) -> None:
    sample = next(name for name in FILES if name.startswith(f"{folder}/"))
    assert owning_sections(SECTIONS, f"{folder}/"), f"{folder}/ has no code owner"
    assert owning_sections(SECTIONS, sample), f"{sample} has no code owner"


def test_every_file_in_the_repository_has_an_owner() -> None:
    unowned = [name for name in FILES if not owning_sections(SECTIONS, name)]
    assert not unowned, f"no code owner for {unowned[:10]}"


@pytest.mark.parametrize(
    ("path", "sections"),
    [
        ("model-build/pipelines/training.py", {"Data Science"}),
        ("model-deploy/pipelines/inference.py", {"ML Engineering", "Model Review"}),
        ("model-deploy/steps/x.py", {"ML Engineering"}),
        ("src/batchops/config.py", {"ML Engineering"}),
        ("shared-modules/kms/main.tf", {"Platform"}),
        ("shared-modules/deploy-role/iam.tf", {"Platform", "Security"}),
        ("accounts/staging/main.tf", {"Platform"}),
        ("accounts/production/main.tf", {"Platform", "Release Management"}),
        ("policies/checks/tags.yaml", {"Security"}),
        (".gitlab-ci.yml", {"Platform", "Security"}),
        (".gitlab/ci/infrastructure.yml", {"Platform", "Security"}),
        (".gitlab/ci/model-deploy.yml", {"Platform", "Security", "Release Management"}),
        ("CODEOWNERS", {"Platform", "Security"}),
        ("config/production.yaml", {"ML Engineering", "Release Management"}),
    ],
)
def test_each_team_owns_its_paths(path: str, sections: set[str]) -> None:
    assert set(owning_sections(SECTIONS, path)) == sections


def test_patterns_follow_gitlab_matching() -> None:
    sections = parse(
        "[A] @g/a\n/top/\nREADME.md\n/docs/*.md\n/deep/**/x.tf\n[B] @g/b\n/top/ @g/override\n"
    )
    assert owning_sections(sections, "top/a/b.py") == {"A": ("@g/a",), "B": ("@g/override",)}
    assert owning_sections(sections, "nested/dir/README.md") == {"A": ("@g/a",)}
    assert owning_sections(sections, "docs/index.md") == {"A": ("@g/a",)}
    assert owning_sections(sections, "docs/sub/index.md") == {}
    assert owning_sections(sections, "deep/x.tf") == {"A": ("@g/a",)}
    assert owning_sections(sections, "deep/a/b/x.tf") == {"A": ("@g/a",)}
    assert owning_sections(sections, "other/top/a.py") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[Data Science @g/ds\n/model-build/\n", "CODEOWNERS:1: malformed section header"),
        ("[Platform][0] @g/p\n/accounts/\n", "CODEOWNERS:1: approvals must be 1 or more"),
        ("[Platform]\n/accounts/\n", "CODEOWNERS:2: /accounts/ has no owner"),
        ("[Platform] @g/p\n/accounts/ platform-team\n", "CODEOWNERS:2: 'platform-team' is not"),
    ],
)
def test_a_malformed_line_is_reported_with_its_number(text: str, message: str) -> None:
    with pytest.raises(CodeownersError, match=message.replace("[", r"\[")):
        parse(text)
