package org.ovis4j.data.words;

/** The kinds of object a word scene shows; {@code noun} is what captions call it. */
public enum SceneObject {
    /** The whole picture is the poster: its colour is the image's background. */
    POSTER("poster"),
    /** A board with a frame on a wall. */
    SIGN("sign"),
    /** A strip across the full width. */
    BANNER("banner"),
    /** A rounded sticker with a printed inner rule. */
    LABEL("label"),
    /** An interface button: a pill with a drop shadow. */
    BUTTON("button");

    public final String noun;

    SceneObject(String noun) {
        this.noun = noun;
    }

    public String id() {
        return noun;
    }
}
