"""Export: dataset rows (tracks and section clips), audio members, the zip writer, the trainers'
formats, and the build that ties them into one crash-safe export."""
