impl<T> ::grad::Differentiable for Params<T>
where
    T: ::grad::num_traits::Zero,
{
    fn zeros_like(&self) -> Self {
        #[allow(unused_imports)]
        use ::grad::__private::{CopyField as _, ZeroField as _};
        Params {
            w: ::core::array::from_fn(|_| <T as ::grad::num_traits::Zero>::zero()),
            b: <T as ::grad::num_traits::Zero>::zero(),
            n: (&::grad::__private::FieldOf(&self.n)).zero_or_copy(),
            inner: (&::grad::__private::FieldOf(&self.inner)).zero_or_copy(),
        }
    }
}
impl<T> ::grad::__private::FloatContent for Params<T> {
    const HOLDS_FLOATS: bool = true;
}
