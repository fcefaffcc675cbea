# shellcheck shell=sh
# Finds a Java 25 or newer for ./mvnw and bin/ovis4j. Sourced, so POSIX sh: ./mvnw runs under dash.
#
#   ovis4j_java_home [--javac]
#
# Prints the home of the first Java 25+ among: $JAVA_HOME, the `java` on PATH, then the newest one
# under the usual install places. --javac also requires bin/javac (the build needs a JDK, the
# launcher only a runtime). When there is none, prints one line on stderr naming what it found and
# returns 1. A JAVA_HOME or PATH holding an older Java is passed over rather than obeyed, because
# Debian's default `java` is older than 25 and a new user's JAVA_HOME often points at it.
#
# OVIS4J_JVM_ROOTS, colon-separated glob patterns, replaces the install places (the test uses it).
#
# Only shell builtins and the candidate `java` binaries run, so the answer depends on nothing else
# on PATH (and the test can give it a PATH holding nothing but fake javas).

ovis4j_java_home() (
  set +e +f # ./mvnw runs with `set -euf`: a failing probe is an answer here, and the places are globs
  _need_javac=false
  [ "${1-}" = --javac ] && _need_javac=true
  _found="" # what the error names: "17 (/usr/lib/jvm/java-17-openjdk-amd64), ..."
  _seen=":" # homes already judged (symlinked homes resolve to one java.home)
  _best="" _best_key=-1

  if [ -n "${JAVA_HOME-}" ]; then
    if [ -x "$JAVA_HOME/bin/java" ]; then
      _ovis4j_probe "$JAVA_HOME/bin/java" "$JAVA_HOME"
      _ovis4j_fits && { printf '%s\n' "$_home"; exit 0; }
    else
      _found="JAVA_HOME without bin/java ($JAVA_HOME)"
    fi
  fi

  _java=$(command -v java 2>/dev/null)
  case $_java in
  /*)
    _ovis4j_probe "$_java" "${_java%/bin/java}"
    _ovis4j_fits && { printf '%s\n' "$_home"; exit 0; }
    ;;
  esac

  _roots=${OVIS4J_JVM_ROOTS-/usr/lib/jvm/*:/opt/java/*:/opt/*jdk*:/usr/local/*jdk*:${HOME-}/.sdkman/candidates/java/*:${HOME-}/.jdks/*:/Library/Java/JavaVirtualMachines/*/Contents/Home}
  IFS=:
  for _dir in $_roots; do # split on ':', then each pattern globbed
    IFS=' 	
'
    [ -x "$_dir/bin/java" ] || continue
    _ovis4j_probe "$_dir/bin/java" "$_dir"
    if _ovis4j_fits && [ "$_key" -gt "$_best_key" ]; then
      _best=$_home _best_key=$_key
    fi
  done
  [ -n "$_best" ] && { printf '%s\n' "$_best"; exit 0; }

  printf 'ovis4j needs JDK 25 or newer: found %s; install Temurin 25 or set JAVA_HOME\n' "${_found:-none}" >&2
  exit 1
)

# Runs java binary $1 (in home $2) and sets _home (its java.home, else $2), _major and _key
# (major, minor and patch as one number, to pick the newest); _major is empty when $1 is no java.
_ovis4j_probe() {
  _home="" _major="" _key=0
  _out=$("$1" -XshowSettings:properties -version 2>&1)
  while IFS= read -r _line; do
    case $_line in
    *'java.home = '*) _home=${_line#*java.home = } ;;
    *' version "'*)
      [ -n "$_major" ] && continue
      _v=${_line#*version \"}
      _v=${_v%%\"*}                        # 25.0.1, 25, 26-ea, 1.8.0_452
      case $_v in 1.*) _v=${_v#1.} ;; esac # Java 8 and older say 1.N
      _v=${_v%%[!0-9.]*}.0.0               # padded so that minor and patch exist
      _maj=${_v%%.*} _v=${_v#*.}
      _min=${_v%%.*} _v=${_v#*.}
      _pat=${_v%%.*}
      [ -n "$_maj" ] || continue
      _major=$(_ovis4j_number "$_maj")
      _key=$((_major * 1000000 + $(_ovis4j_number "$_min") * 1000 + $(_ovis4j_number "$_pat")))
      ;;
    esac
  done <<EOF
$_out
EOF
  [ -n "$_home" ] || _home=$2
}

# Prints $1 as a decimal number without leading zeros (0 when empty), since $((08)) is an error.
_ovis4j_number() {
  _n=${1#"${1%%[!0]*}"}
  case $_n in '' | *[!0-9]*) _n=0 ;; esac
  printf %s "$_n"
}

# True when the probed java is 25+ (with javac when asked); otherwise adds it to what the error names.
_ovis4j_fits() {
  [ -n "$_major" ] || return 1
  case $_seen in *":$_home:"*) return 1 ;; esac
  _seen="$_seen$_home:"
  if [ "$_major" -ge 25 ]; then
    $_need_javac || return 0
    [ -x "$_home/bin/javac" ] && return 0
    _found="${_found:+$_found, }$_major without javac ($_home)"
  else
    _found="${_found:+$_found, }$_major ($_home)"
  fi
  return 1
}
