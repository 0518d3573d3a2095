package picket.core

/**
 * Marks declarations that are public only so that Picket's own modules can share them. They are not part of the
 * API: they change without notice, and using them outside Picket is an error.
 */
@RequiresOptIn(
    message = "This is an internal Picket API: it may change without notice. Do not use it outside Picket.",
    level = RequiresOptIn.Level.ERROR,
)
@Retention(AnnotationRetention.BINARY)
@Target(AnnotationTarget.CLASS, AnnotationTarget.FUNCTION, AnnotationTarget.PROPERTY, AnnotationTarget.TYPEALIAS)
public annotation class InternalPicketApi
