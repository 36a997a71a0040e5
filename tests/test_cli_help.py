"""``tianping --help`` and subcommand help: click's headings and the option texts read in Chinese."""

import pytest
from click.testing import CliRunner

from tianping import __version__
from tianping.cli.main import cli, display_width, wrap_columns

ENGLISH_CLICK_TEXTS = ("Usage:", "Options:", "Commands:", "Arguments:", "Show this message and exit.")


def help_lines(*args):
    # A fixed width keeps the help layout independent of the terminal that runs the tests.
    result = CliRunner().invoke(cli, list(args), prog_name="tianping", terminal_width=80)
    assert result.exit_code == 0, result.output
    for english in ENGLISH_CLICK_TEXTS:
        assert english not in result.output
    return result.output.splitlines()


def test_root_help_chinese():
    lines = help_lines("--help")
    assert lines[0] == "用法：tianping [OPTIONS] COMMAND [ARGS]..."
    assert "选项：" in lines
    assert "命令：" in lines
    assert "  -h, --help     显示此帮助并退出。" in lines
    assert "  --version      显示版本并退出。" in lines
    assert "  -v, --verbose  把运行过程的详细日志写到标准错误。" in lines
    assert "  laws       法规库：导入、列出、查看和检索法律。" in lines


def test_subcommand_help_chinese():
    lines = help_lines("laws", "search", "--help")
    assert lines[0] == "用法：tianping laws search [OPTIONS] QUERY"
    assert "  按 QUERY 检索法条。" in lines
    assert "选项：" in lines
    assert "  --law TEXT                      只检索该法律的条文。" in lines
    assert "  --json                          输出 JSON，供脚本使用。" in lines
    assert "  -h, --help                      显示此帮助并退出。" in lines
    assert "  --top-k INTEGER                 返回的条文数（1-100）。  [默认：10]" in lines


def test_short_help_option_same_as_long():
    assert help_lines("predict", "train", "-h") == help_lines("predict", "train", "--help")


def test_version_message_chinese():
    result = CliRunner().invoke(cli, ["--version"], prog_name="tianping")
    assert result.exit_code == 0
    assert result.output == f"tianping，版本 {__version__}\n"


def test_required_and_default_notes_chinese():
    text = "\n".join(help_lines("predict", "train", "--help"))
    assert "[必填]" in text
    assert "[默认：tfidf]" in text
    assert "required" not in text
    assert "default:" not in text


@pytest.mark.parametrize("text, width, lines", [
    ("回答问题并核验引用", 8, ["回答问题", "并核验引", "用"]),
    # Closing punctuation does not start a line, so the character before it moves down too.
    ("法条，款项", 4, ["法", "条，", "款项"]),
    ("最快）、其他", 4, ["最", "快）、", "其他"]),
    ("见 draft NAME ...”", 14, ["见 draft", "NAME ...”"]),
    ("模型目录。  [必填]", 14, ["模型目录。", "[必填]"]),
    # An opening bracket moves to the next line with what it opens.
    ("模型（TF-IDF）", 6, ["模型", "（TF-IDF）"]),
    ("用 --model DIR 指定目录", 12, ["用 --model", "DIR 指定目录"]),
    ("返回的条文数。  [默认：10]", 40, ["返回的条文数。  [默认：10]"]),
])
def test_wrap_columns_table(text, width, lines):
    assert wrap_columns(text, width) == lines


def _command_paths(command, path=()):
    yield path
    for name, subcommand in getattr(command, "commands", {}).items():
        yield from _command_paths(subcommand, (*path, name))


@pytest.mark.parametrize("command", list(_command_paths(cli)), ids=" ".join)
def test_help_fits_terminal_columns(command):
    lines = help_lines(*command, "--help")
    # The usage line and option names are click's own and are not wrapped, so only help text is checked.
    too_wide = [line for line in lines if display_width(line) > 80 and not line.lstrip().startswith("-")
                and not line.startswith("用法")]
    assert too_wide == []
    assert [line for line in lines if line.strip()[:1] in tuple("，。、；：！？）》")] == []
