"""The generated bad-input corpus (issue 12): every case, how it is made and what the product
must do with it, in one table (:data:`badinput.corpus.CASES`)."""
