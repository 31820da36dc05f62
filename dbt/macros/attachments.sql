{#- A portal publication's attachment names a loaded file: the same path, or the file's path ends with '/' and the
    attachment (the portal log gives a bare file name or a tail of the path). Written as an OR, the join had no
    equality to hash on and ran as a nested loop over every sheet × publication (3.9 of int_sheet_duplicates' 4.0 s
    and 3.2 of int_sheets_resolved's 3.5 s at 1 M trading rows, loaded machine). Both alternatives imply equal last
    path segments, so that equality comes first: a hash join on it, then the same OR on the few pairs it leaves.
    The same pairs as the OR alone.
    Compared without case: a portal log written on Windows (and the IIS server a download link names) writes
    `预算.XLSX` for the `预算.xlsx` on disk, and `.Pdf` for `.pdf` — the same file to the reader of either. -#}
{% macro attachment_names_file(attachment, source_file) -%}
lower({{ regex_extract(attachment, "'[^/]+$'") }}) = lower({{ regex_extract(source_file, "'[^/]+$'") }})
       and (lower({{ attachment }}) = lower({{ source_file }})
            or right(lower({{ source_file }}), length({{ attachment }}) + 1) = '/' || lower({{ attachment }}))
{%- endmacro %}

{#- The attachment as a path under the raw root, from the forms a portal log gives it in (RAW_FORMATS.md portal/):
    a bare file name or a raw-root path stay as they are (backslashes as '/'); percent-encoded text (a name copied
    from a download link: %E6%B5%8B….xlsx) is decoded; and a name that points outside the raw root — a download URL
    (http://…/x.xlsx?id=1), a path on the clerk's own disk (C:\Users\…\x.xlsx, \\server\share\x.xlsx, /home/…) —
    keeps only its file name, since its folders are not the raw root's and the name is what a reader matches on.
    Blank → NULL. -#}
{% macro attachment_in_raw_root(expr) -%}
{%- set slashed -%}nullif(trim(replace({{ expr }}, {{ sql_string('\\') }}, '/')), ''){%- endset -%}
{%- set decoded -%}
case when {{ regex_search(slashed, "'%[0-9A-Fa-f]{2}'") }} then {{ url_decode_text(slashed) }} else {{ slashed }} end
{%- endset -%}
case when {{ regex_search(decoded, sql_string('^([A-Za-z]:/|/|[A-Za-z][A-Za-z0-9+.-]*://)')) }}
     then nullif({{ regex_extract(regex_replace_anchored(decoded, sql_string('[?#].*$'), "''"), "'[^/]*$'") }}, '')
     else {{ decoded }} end
{%- endmacro %}

{#- Percent-decoding as UTF-8; a '+' stays a '+' (a file name's, not a form's space); text that does not decode
    (a stray '%', or bytes of another encoding than UTF-8) is kept as it is. -#}
{% macro url_decode_text(expr) -%}
{{ return(adapter.dispatch('url_decode_text', 'gongkai')(expr)) }}
{%- endmacro %}
{% macro default__url_decode_text(expr) -%}
coalesce(try(url_decode(replace({{ expr }}, '+', '%2B'))), {{ expr }})
{%- endmacro %}
{% macro spark__url_decode_text(expr) -%}
coalesce(try_url_decode(replace({{ expr }}, '+', '%2B')), {{ expr }})
{%- endmacro %}

{#- The attachments one portal cell lists, as written (RAW_FORMATS.md portal/): a portal's "附件" cell lists several files
    one after the other — `a.xlsx；b.pdf`, `a.xlsx、b.pdf`, `a.xlsx, b.pdf`, one per line (Alt+Enter in Excel). A
    separator counts only right after a file's extension (and a download link's `?query#fragment`), so a name that
    holds one (`收入、支出预算表.xlsx`) stays one name; `；` and a line break always separate. Any extension counts
    (`.rar`, `.zip`, `.7z`, `.png`, not only the forms gongkai reads): a list is a list whatever its files are, and an
    archive the clerk attached is a file to find or report absent — with a closed list, `说明.rar、x.xlsx` was one name
    and `a.zip；x.xlsx` lost a.zip. An extension is 2–5 letters/digits with a letter among its first two (`.7z`), so
    `v1.02 说明.pdf` is one name. A link's query (from `?`/`#` to a blank, a line break, `；`/`;` or `，`) keeps every `、`
    (`?name=收入、支出&from=www.nx.gov.cn`: a link copied from the address bar shows its query decoded, and the text
    after a `、` may hold a '.' of its own — cut there, it made `支出&from=www.nx.gov.cn` an attachment), and a `,`
    (`?id=1,2`) unless text with a '.' follows it (`?id=1,http://…/说明.pdf`): that is the next attachment. (Written
    without look-ahead, which
    DuckDB's RE2 lacks; Java's regex for Spark reads the same pattern the same way.) The text between two attachments
    (separators, blanks) is left out. A cell naming no file with an extension (`附件1`) is one attachment, the whole
    cell, as before: a name to look for and report, not a list to guess at. -#}
{% macro attachment_list(expr) -%}
{%- set ext = '(?:[A-Za-z][A-Za-z0-9]{1,4}|[0-9][A-Za-z][A-Za-z0-9]{0,3})' -%}
{%- set sep = '\\r\\n；;、,，\\s　' -%}
{%- set query = '(?:[?#][^\\r\\n；;，,\\s　]*(?:,[^\\r\\n；;、，,\\s　.]*(?:、[^\\r\\n；;，,\\s　]*)?)*)?' -%}
{%- set pattern = '(?i)[^\\r\\n；]+?\\.' ~ ext ~ query ~ '(?:$|[' ~ sep ~ '])' -%}
{{ return(adapter.dispatch('regex_extract_all', 'gongkai')(expr, sql_string(pattern))) }}
{%- endmacro %}
{% macro default__regex_extract_all(expr, pattern) -%}regexp_extract_all({{ expr }}, {{ pattern }}){%- endmacro %}
{% macro spark__regex_extract_all(expr, pattern) -%}regexp_extract_all({{ expr }}, {{ pattern }}, 0){%- endmacro %}

{#- The separators and blanks around one attachment of a list (attachment_list) taken off. -#}
{% macro attachment_trimmed(expr) -%}
trim({{ regex_replace_all(expr, sql_string('^[\\r\\n；;、,，\\s　]+|[\\r\\n；;、,，\\s　]+$'), "''") }})
{%- endmacro %}

{#- A label a clerk wrote before the name (`附件1：x.xlsx`, `附件：x.xlsx`, `附件二: x.pdf`) taken off: the label is no part
    of the file's name, and kept it made the file "missing". Which of the two a cell means is decided against the
    files there (stg_portal__attachments): a file really named `附件1：x.xlsx` keeps its label. -#}
{% macro attachment_label_off(expr) -%}
trim({{ regex_replace_anchored(expr, sql_string('^附件[0-9０-９一二三四五六七八九十]*\\s*[：:]\\s*'), "''") }})
{%- endmacro %}
