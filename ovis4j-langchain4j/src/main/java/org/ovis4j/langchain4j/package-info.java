/** ovis4j inside LangChain4j: {@link org.ovis4j.langchain4j.Ovis4jImageModel} implements its {@code ImageModel}. */
package org.ovis4j.langchain4j;
