# Bash completion for reconcile. Subcommands and each one's options are read from the help of
# the reconcile being completed (`reconcile --help`, `reconcile SUB --help`), so they follow the
# binary and never a list kept here; the spec argument completes to *.toml files (and saved
# plans, *.json, where the help says a plan is taken); --through, --to and --stage complete to
# the stage names of the spec on the line, read from its `stages = [...]`.
# Installed as share/bash-completion/completions/reconcile; `source` it to use it without
# the bash-completion package.
# shellcheck shell=bash disable=SC2088  # "~/" is matched as typed, then expanded by hand

# _reconcile_table < HELP: one line per entry of a CLI11 help text, fields split by \x1f (not a
# tab: read would fold the empty TYPE of a flag away):
# KIND (opt or pos), NAME, TYPE ("TEXT", "TEXT:{a,b}", "" for a flag), DESCRIPTION.
# "-h,--help" gives one line per name.
_reconcile_table() {
  awk '
    function flush(   n, names, i) {
      if (name == "") return
      n = split(name, names, ",")
      for (i = 1; i <= n; i++) printf "%s\037%s\037%s\037%s\n", kind, names[i], type, desc
      name = ""
    }
    /^[A-Za-z][A-Za-z ]*:$/ { flush(); section = tolower($0); next }
    section == "subcommands:" { next }
    /^   +[^ ]/ { sub(/^ +/, ""); desc = desc (desc == "" ? "" : " ") $0; next }
    /^  [^ ]/ {
      flush()
      entry = substr($0, 3)
      if (entry ~ /^-[A-Za-z0-9], +-/) sub(/, +/, ",", entry)  # newer CLI11 aligns "-h,     --help"
      desc = ""
      if (match(entry, /  +/)) { desc = substr(entry, RSTART + RLENGTH); entry = substr(entry, 1, RSTART - 1) }
      name = entry; type = ""
      if (index(entry, " ")) { name = substr(entry, 1, index(entry, " ") - 1); type = substr(entry, index(entry, " ") + 1) }
      kind = name ~ /^-/ ? "opt" : "pos"
      next
    }
    END { flush() }'
}

# _reconcile_stages SPEC [ENV]: the stage names of a spec (its --env overlay SPEC.ENV.toml
# first, when it lists them), or of the spec a saved plan (*.json) was made from. TOML is read
# lightly: the top-level `stages = [...]`, before any [table], over one line or several.
_reconcile_stages() {
  local spec=$1 env=${2:-}
  if [[ $spec == *.json ]]; then
    local plan=$spec
    spec=$(sed -n 's/^    "file": "\(.*\)",\{0,1\}$/\1/p' "$plan" 2>/dev/null | head -n 1)
    [[ -n $env ]] || env=$(sed -n 's/^    "env": "\(.*\)",\{0,1\}$/\1/p' "$plan" 2>/dev/null | head -n 1)
  fi
  local files=("$spec")
  [[ -n $env ]] && files=("${spec%.toml}.$env.toml" "$spec")
  local f stages
  for f in "${files[@]}"; do
    [[ -f $f ]] || continue
    stages=$(awk '
      !in_list && /^[ \t]*\[/ { exit }
      !in_list && /^[ \t]*stages[ \t]*=[ \t]*\[/ { in_list = 1; sub(/^[^[]*\[/, "") }
      in_list {
        s = $0
        while (s != "") {
          c = substr(s, 1, 1)
          if (c == "\"" || c == "\047") {
            end = index(substr(s, 2), c)
            if (!end) break
            print substr(s, 2, end - 1)
            s = substr(s, end + 2)
          } else if (c == "#") {
            break
          } else if (c == "]") {
            exit
          } else {
            s = substr(s, 2)
          }
        }
      }' "$f")
    if [[ -n $stages ]]; then
      printf '%s\n' "$stages"
      return 0
    fi
  done
}

# _reconcile_takes_value OPTION: whether OPTION takes a value, by the opt_type table of the
# caller (_reconcile).
_reconcile_takes_value() { [[ -n ${opt_type[$1]:-} ]]; }

_reconcile() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local bin=${COMP_WORDS[0]}
  [[ $bin == "~/"* ]] && bin=$HOME/${bin#"~/"}
  COMPREPLY=()
  # "--through=" is three words to bash ("--through" "=" ""), or two with the cursor on "=".
  local word_before=$prev
  if [[ $cur == "=" ]]; then
    cur=""
  elif [[ $prev == "=" && $COMP_CWORD -ge 2 ]]; then
    word_before=${COMP_WORDS[COMP_CWORD - 2]}
  fi

  local top subcommands sub="" i
  top=$("$bin" --help 2>/dev/null) || return 0
  subcommands=$(awk '/^[A-Za-z][A-Za-z ]*:$/ { in_subs = (tolower($0) == "subcommands:"); next }
    in_subs && /^  [^ ]/ { print $1 }' <<<"$top")
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ $'\n'$subcommands$'\n' == *$'\n'"${COMP_WORDS[i]}"$'\n'* ]]; then
      sub=${COMP_WORDS[i]}
      break
    fi
  done
  if [[ -z $sub ]]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$(_reconcile_table <<<"$top" | awk -F'\037' '$1 == "opt" { print $2 }')" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$subcommands" -- "$cur")
    fi
    return 0
  fi

  # The subcommand's options: which take a value, their choices, their descriptions.
  local table
  table=$("$bin" "$sub" --help 2>/dev/null | _reconcile_table)
  local -A opt_type=() opt_desc=()
  local kind name t d spec_desc=""
  while IFS=$'\x1f' read -r kind name t d; do
    if [[ $kind == opt ]]; then
      opt_type[$name]=$t
      opt_desc[$name]=$d
    elif [[ $kind == pos && -z $spec_desc ]]; then
      spec_desc=$d  # the first positional is the spec (or a saved plan)
    fi
  done <<<"$table"

  # The words so far after the subcommand: option values are skipped (--env's noted), the first
  # other word is the spec. Bash splits NAME=VALUE at '=': the word after a '=' is a value.
  local spec="" env="" pending="" w
  for ((i = i + 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    [[ $w == "=" ]] && continue
    if [[ -n $pending || ${COMP_WORDS[i - 1]} == "=" ]]; then
      [[ $pending == --env ]] && env=$w
      pending=""
      continue
    fi
    if [[ $w == -* ]]; then
      _reconcile_takes_value "$w" && pending=$w
      continue
    fi
    [[ -z $spec ]] && spec=$w
  done
  [[ $spec == "~/"* ]] && spec=$HOME/${spec#"~/"}

  if _reconcile_takes_value "$word_before" && [[ $prev == "$word_before" || $prev == "=" ]]; then
    case $word_before in
      --through | --to | --stage)
        [[ -n $spec ]] && mapfile -t COMPREPLY < <(compgen -W "$(_reconcile_stages "$spec" "$env")" -- "$cur")
        ;;
      --env)  # the overlays beside the spec: SPEC.ENV.toml
        local overlays=() o
        [[ -n $spec ]] && for o in "${spec%.toml}".*.toml; do
          [[ -f $o ]] && o=${o#"${spec%.toml}".} && overlays+=("${o%.toml}")
        done
        mapfile -t COMPREPLY < <(compgen -W "${overlays[*]}" -- "$cur")
        ;;
      *)
        if [[ ${opt_type[$word_before]:-} =~ \{([^}]*)\} ]]; then  # TEXT:{text,json,markdown,html}
          mapfile -t COMPREPLY < <(compgen -W "${BASH_REMATCH[1]//,/ }" -- "$cur")
        elif [[ ${opt_desc[$word_before]:-} == *[Ff][Ii][Ll][Ee]* ]]; then
          compopt -o filenames 2>/dev/null
          mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
        ;;
    esac
    return 0
  fi

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "${!opt_type[*]}" -- "$cur")
  elif [[ -z $spec && -n $spec_desc ]]; then
    # Spec files and folders to find them in; saved plans where the spec may be one.
    local pattern='!*.toml'
    [[ $spec_desc == *plan* ]] && pattern='!*.@(toml|json)'
    compopt -o filenames 2>/dev/null
    local saved_extglob
    saved_extglob=$(shopt -p extglob)
    shopt -s extglob
    local hidden='@(.*|*/.*)'  # folders such as .reconcile/ only when asked for with a '.'
    [[ ${cur##*/} == .* ]] && hidden=''
    mapfile -t COMPREPLY < <(compgen -d -X "$hidden" -- "$cur"; compgen -f -X "$pattern" -- "$cur")
    eval "$saved_extglob"
  fi
  return 0
}
complete -F _reconcile reconcile
