"""The ``tianping`` command line: thin commands over the Python API."""

from __future__ import annotations

import importlib
import json
import logging
import re
import sys
import unicodedata

import click

from tianping import __version__
from tianping.errors import TianpingError

# Command modules, each exposing ``register(cli)``. They import heavy or optional
# packages inside their commands, so a missing extra breaks only its own commands.
COMMAND_MODULES = [
    "tianping.cli.laws",
    "tianping.cli.ask",
    "tianping.cli.cite",
    "tianping.cli.chat",
    "tianping.cli.anonymize",
    "tianping.cli.finetune",
    "tianping.cli.draft",
    "tianping.cli.predict",
    "tianping.cli.serve",
    "tianping.cli.keys",
]


# Click's usage errors, in the Chinese of the rest of the output.
_USAGE_ERRORS = [
    (re.compile(r"^No such command '(.+)'\.$"), "没有这个命令：{0}（用 tianping --help 查看全部命令）"),
    (re.compile(r"^No such command '(.+)'\. Did you mean '(.+)'\?$"), "没有这个命令：{0}，是不是要用 {1}？（用 --help 查看全部命令）"),
    (re.compile(r"^Missing argument '(.+)'\.$"), "缺少参数 {0}（用 --help 查看用法）"),
    (re.compile(r"^Missing option '(.+)'\.$"), "缺少选项 {0}（用 --help 查看用法）"),
    (re.compile(r"^No such option '(.+)'\. Did you mean '(.+)'\?$"), "没有这个选项：{0}，是不是要用 {1}？（用 --help 查看用法）"),
    (re.compile(r"^No such option '(.+)'\. \(Possible options: (.+)\)$"),
     "没有这个选项：{0}，相近的选项：{1}（用 --help 查看用法）"),
    (re.compile(r"^No such option: (\S+)"), "没有这个选项：{0}（用 --help 查看用法）"),
    (re.compile(r"^No such option '(.+)'\.$"), "没有这个选项：{0}（用 --help 查看用法；负数或以 - 开头的参数请写在 -- 之后）"),
    (re.compile(r"^Invalid value for '(.+?)': (.*)$", re.S), "选项 {0} 的值无效：{1}"),
    (re.compile(r"^Got unexpected extra arguments? \((.+)\)$"), "多余的参数：{0}（参数中含空格时请加引号）"),
]


_NOT_A_CHOICE = re.compile(r"^'(.*)' is not one of (.+)\.$", re.S)

# Click's messages for a bad option value, in Chinese.
_VALUE_ERRORS = [
    (re.compile(r"^(?:Directory|File|Path) '(.*)' does not exist\.$"), "{0} 不存在"),
    (re.compile(r"^Directory '(.*)' is a file\.$"), "{0} 是文件，这里需要目录"),
    (re.compile(r"^File '(.*)' is a directory\.$"), "{0} 是目录，这里需要文件"),
    (re.compile(r"^(.*) is not in the range (.*)\.$"), "{0} 不在 {1} 的范围内"),
    (re.compile(r"^'(.*)' is not a valid (?:float|integer)(?: range)?\.$"), "{0} 不是数字"),
]


def _value_message(message: str) -> str:
    choice = _NOT_A_CHOICE.match(message)
    if choice:
        choices = "、".join(part.strip("'") for part in choice.group(2).split(", "))
        return f"{choice.group(1)}，可选值：{choices}"
    for pattern, template in _VALUE_ERRORS:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    return message


def usage_message(error: click.UsageError) -> str:
    message = error.format_message()
    for pattern, template in _USAGE_ERRORS:
        match = pattern.match(message)
        if match:
            groups = list(match.groups())
            groups[-1] = _value_message(groups[-1])
            return template.format(*groups)
    return message


# Click's own help headings, in Chinese.
_HELP_HEADINGS = {
    "Options": "选项",
    "Commands": "命令",
    "Arguments": "参数",
    "Positional arguments": "参数",
}

# Labels inside the bracket that click appends to an option's help, e.g. "[default: 10; required]".
_HELP_EXTRA_LABELS = [("default: ", "默认："), ("env var: ", "环境变量："), ("required", "必填")]
_HELP_EXTRA = re.compile(r"\[([^\[\]]*)\]$")


def _translate_help_extra(text: str) -> str:
    """Translate the labels in the bracket at the end of an option's help text, leaving other text as it is."""
    match = _HELP_EXTRA.search(text)
    if not match:
        return text
    items = match.group(1).split("; ")
    translated = []
    for item in items:
        for english, chinese in _HELP_EXTRA_LABELS:
            if item.startswith(english):
                item = chinese + item[len(english):]
                break
        translated.append(item)
    if translated == items:
        return text
    return f"{text[:match.start()]}[{'；'.join(translated)}]"


def display_width(text: str) -> int:
    """Return the terminal columns that ``text`` takes: two for each wide (CJK) character, one otherwise."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


# Punctuation that must not start a line of Chinese text, and brackets that must not end one.
_NO_LINE_START = frozenset("，。、；：！？）》」』〉】”’,.;:!?)]}")
_NO_LINE_END = frozenset("（《「『〈【“‘([{")
# A run of characters that is not wide and not space (an English word, an option name), one wide
# character, or a run of spaces.
_WRAP_TOKEN = re.compile(r"\s+|[^\s\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+|.")


def wrap_columns(text: str, width: int) -> list[str]:
    """Wrap one paragraph to ``width`` terminal columns.

    A line may break between any two Chinese characters and at spaces, never inside
    an English word. Closing punctuation such as ，or ） does not start a line, so
    the word before it moves down with it, and an opening bracket does not end one.
    """
    lines: list[str] = []
    tokens: list[str] = []
    for token in _WRAP_TOKEN.findall(text):
        if token.isspace():
            if tokens:
                tokens.append(token)
            continue
        if tokens and display_width("".join(tokens)) + display_width(token) > width:
            staying, carried = _break_point(tokens, token)
            if staying:
                lines.append("".join(staying).rstrip())
                tokens = carried
        tokens.append(token)
    if tokens:
        lines.append("".join(tokens).rstrip())
    return lines


def _break_point(tokens: list[str], following: str) -> tuple[list[str], list[str]]:
    """Split a full line's ``tokens`` into the part that stays and the part carried to the next line.

    The part that stays is empty when no break is allowed, and the line then runs long.
    """
    staying = list(tokens)
    spaces: list[str] = []
    while staying and staying[-1].isspace():
        spaces.insert(0, staying.pop())
    carried: list[str] = []
    # Closing punctuation moves down together with the word it follows, however many marks there are.
    if following[0] in _NO_LINE_START:
        while not carried or carried[0][0] in _NO_LINE_START:
            if len(staying) < 2:
                return [], []
            carried.insert(0, staying.pop())
        carried.extend(spaces)
    while staying and staying[-1][-1] in _NO_LINE_END:
        carried.insert(0, staying.pop())
    return staying, carried


def _join_lines(lines: list[str]) -> str:
    """Join the lines of a paragraph with spaces, except between two Chinese characters."""
    text = ""
    for line in (line.strip() for line in lines):
        if text and line and (display_width(text[-1]) == 1 or display_width(line[0]) == 1):
            text += " "
        text += line
    return text


def wrap_paragraphs(text: str, width: int, indent: int = 0) -> list[str]:
    """Wrap ``text`` paragraph by paragraph, keeping a paragraph that starts with click's \\b as it is."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
        lines = paragraph.splitlines()
        if out:
            out.append("")
        if lines and lines[0].strip() == "\b":
            out.extend(" " * indent + line for line in lines[1:])
            continue
        out.extend(" " * indent + line for line in wrap_columns(_join_lines(lines), max(width - indent, 10)))
    return out


class ChineseHelpFormatter(click.HelpFormatter):
    """A help formatter that writes click's usage prefix, headings and option notes in Chinese.

    Help text is wrapped by terminal columns, where a Chinese character takes two.
    """

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_HELP_HEADINGS.get(heading, heading)}：\n")

    def write_text(self, text: str) -> None:
        for line in wrap_paragraphs(text, self.width, self.current_indent):
            self.write(f"{line}\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(term, _translate_help_extra(text)) for term, text in rows]
        if not rows:
            return
        first_width = min(max(display_width(term) for term, _ in rows), col_max) + col_spacing
        text_width = max(self.width - self.current_indent - first_width, 10)
        for term, text in rows:
            self.write(f"{'':>{self.current_indent}}{term}")
            lines = wrap_paragraphs(text, text_width) if text else []
            if not lines:
                self.write("\n")
                continue
            if display_width(term) + col_spacing <= first_width:
                self.write(" " * (first_width - display_width(term)))
            else:
                self.write("\n" + " " * (self.current_indent + first_width))
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{' ' * (self.current_indent + first_width)}{line}\n" if line else "\n")


class TianpingContext(click.Context):
    formatter_class = ChineseHelpFormatter


def use_chinese_help(command: click.Command) -> None:
    """Give COMMAND and every subcommand below it the Chinese help formatter and a Chinese -h/--help option.

    Click builds each subcommand's context from that subcommand's own context_class, so the class
    set on the root group does not reach them. The explicit help option uses the names of click's
    built-in one, which has English text, so click leaves the built-in one out.
    """
    command.context_class = TianpingContext
    click.help_option("-h", "--help", help="显示此帮助并退出。")(command)
    for subcommand in getattr(command, "commands", {}).values():
        use_chinese_help(subcommand)


class TianpingGroup(click.Group):
    """A click group that turns tianping errors into one line and a non-zero exit."""

    context_class = TianpingContext

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        arguments = kwargs.get("args")
        if arguments is None:
            arguments = args[0] if args else sys.argv[1:]
        try:
            # Without standalone mode click returns the exit code of ctx.exit() instead of exiting.
            status = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as error:
            message = f"用法错误：{usage_message(error)}"
            if "--json" in arguments:
                click.echo(json.dumps({"error": {"code": "usage_error", "message": message}}, ensure_ascii=False))
            else:
                click.echo(message, err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("已中止", err=True)
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)

    def invoke(self, ctx: click.Context):
        # The arguments after the group's own options, subcommand included.
        json_mode = "--json" in ctx.args
        try:
            return super().invoke(ctx)
        except TianpingError as exc:
            if json_mode:
                click.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
            else:
                click.echo(f"错误：{exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=TianpingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tianping", message="%(prog)s，版本 %(version)s", help="显示版本并退出。")
@click.option("-v", "--verbose", is_flag=True, help="把运行过程的详细日志写到标准错误。")
def cli(verbose: bool) -> None:
    """tianping（天平）：面向中国法律的法规库与引用核验、法律检索与咨询、判决预测、文书起草、脱敏、微调和服务。"""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # bm25s sets its logger to DEBUG when it builds an index; keep its records off our handlers.
    logging.getLogger("bm25s").propagate = False
    # Log lines can quote questions and file contents; mask personal data before any handler writes them.
    from tianping.anonymize import logging_filter

    for handler in logging.getLogger().handlers:
        handler.addFilter(logging_filter())


for module_name in COMMAND_MODULES:
    importlib.import_module(module_name).register(cli)
use_chinese_help(cli)


def main() -> None:
    cli(prog_name="tianping")


if __name__ == "__main__":
    main()
