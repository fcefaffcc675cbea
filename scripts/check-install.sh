#!/usr/bin/env bash
# What `./mvnw install` gives a user's project: runs it (without the tests) into a scratch local
# repository that reads through to ~/.m2 (so no org.ovis4j artifact of an earlier install is seen, and
# ~/.m2 gets nothing of this run), checks that every module is there with its pom, jar, sources jar and
# javadoc jar, then builds two projects outside this build that depend on ovis4j by coordinates only:
#   - one on ovis4j-model alone, whose classpath must hold nothing of Spring, LangChain4j or Jackson
#     (the integrations' dependencies stay out of the core modules);
#   - one on ovis4j-spring-ai and ovis4j-langchain4j, compiled, then run on the resolved classpath:
#     it draws an image with the tiny checkpoint through LangChain4j's ImageModel.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/lib/java-home.sh
java_bin="$(ovis4j_java_home)/bin/java"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo_args=(-Dmaven.repo.local="$work/repo" -Dmaven.repo.local.tail="${MAVEN_REPO_TAIL:-$HOME/.m2/repository}")
fail() { echo "check-install: $*" >&2; exit 1; }

./mvnw -B -q install -DskipTests "${repo_args[@]}"

version=$(grep -m1 -A1 '<artifactId>ovis4j-parent</artifactId>' pom.xml | sed -n 's:.*<version>\(.*\)</version>.*:\1:p')
[[ -n "$version" ]] || fail "no version in pom.xml"
modules=$(sed -n 's:.*<module>\(.*\)</module>.*:\1:p' pom.xml)
for m in $modules; do
  for suffix in .pom .jar -sources.jar -javadoc.jar; do
    f="$work/repo/org/ovis4j/$m/$version/$m-$version$suffix"
    [[ -s "$f" ]] || fail "./mvnw install did not install $m-$version$suffix"
  done
done
[[ -s "$work/repo/org/ovis4j/ovis4j-parent/$version/ovis4j-parent-$version.pom" ]] || fail "the parent pom is not installed"

# consumer_pom DIR ARTIFACT...: a project with those org.ovis4j artifacts as its only dependencies.
consumer_pom() {
  local dir=$1; shift
  mkdir -p "$dir/src/main/java/app"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>app</groupId><artifactId>app</artifactId><version>1</version>'
    echo '<properties><maven.compiler.release>25</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>'
    echo '<dependencies>'
    for a in "$@"; do echo "<dependency><groupId>org.ovis4j</groupId><artifactId>$a</artifactId><version>$version</version></dependency>"; done
    echo '</dependencies>'
    echo '<build><plugins><plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId><version>3.14.0</version></plugin></plugins></build>'
    echo '</project>'
  } > "$dir/pom.xml"
}

consumer_pom "$work/core-only" ovis4j-model
./mvnw -B -q -f "$work/core-only/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/core-only.cp" "${repo_args[@]}"
grep -q "ovis4j-core-$version.jar" "$work/core-only.cp" || fail "ovis4j-model does not bring ovis4j-core"
if tr ':' '\n' < "$work/core-only.cp" | grep -E 'springframework|langchain4j|jackson'; then
  fail "ovis4j-model's classpath holds the integrations' dependencies (above)"
fi

consumer_pom "$work/app" ovis4j-spring-ai ovis4j-langchain4j
cat > "$work/app/src/main/java/app/Main.java" <<'EOF'
package app;

import dev.langchain4j.data.image.Image;
import dev.langchain4j.model.image.ImageModel;
import java.nio.file.Path;
import java.util.Base64;
import org.ovis4j.langchain4j.Ovis4jImageModel;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.spring.ai.Ovis4jAutoConfiguration;

public class Main {
    public static void main(String[] args) {
        System.out.println("auto-configuration: " + Ovis4jAutoConfiguration.class.getName());
        try (Ovis4jImageModel ovis = Ovis4jImageModel.builder().modelDir(Path.of(args[0])).precision(Precision.FP32)
                .size(32, 32).steps(1).build()) {
            ImageModel model = ovis;
            Image image = model.generate("a poster that says \"OPEN\"").content();
            byte[] png = Base64.getDecoder().decode(image.base64Data());
            if (png.length < 8 || png[1] != 'P' || png[2] != 'N' || png[3] != 'G') throw new IllegalStateException("not a PNG");
            System.out.println("drew a " + png.length + "-byte " + image.mimeType());
        }
    }
}
EOF
./mvnw -B -q -f "$work/app/pom.xml" compile dependency:build-classpath -Dmdep.outputFile="$work/app.cp" "${repo_args[@]}"
"$java_bin" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$work/app/target/classes:$(cat "$work/app.cp")" \
  app.Main "$root/ovis4j-model/src/test/resources/goldens/ovis_image_tiny" 2>&1 | grep -v 'WARNING: Using incubator modules' \
  | sed 's/^/check-install: app: /'
echo "check-install: every module installed with sources and javadoc; a project built on the coordinates drew an image"
